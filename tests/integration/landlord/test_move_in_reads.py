"""The one read a move-in makes of its house: the house, its station and who lives there now, by index only."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from portal.models import Tenancy
from portal.services import reporting
from portal.services.errors import NotFound
from tests import factories


@pytest.fixture
def house(db_session, district, landlord):
    return factories.make_house(db_session, landlord, district.addresses[0], max_occupants=6).house


def test_the_house_with_nobody_living_there(db_session, house, landlord, district):
    read = reporting.reportable_house(db_session, landlord, house.id)
    assert (read.id, read.beat_id, read.max_occupants) == (house.id, house.beat_id, 6)
    assert read.station_id == district.addresses[0].beat.station_id
    assert read.address_text == house.address.text
    assert read.residents == ()
    assert (read.address_id, read.address_active) == (house.address_id, True)


def test_the_house_at_a_retired_address_says_so(db_session, house, landlord, district):
    from portal.services import address_upkeep

    clerk = factories.make_user(db_session, role="clerk", bureau_id=district.bureau.id)
    address_upkeep.retire(db_session, clerk, house.address_id, None, factories.as_actor(clerk))
    db_session.commit()
    assert reporting.reportable_house(db_session, landlord, house.id).address_active is False


def test_residents_are_those_living_there_now(db_session, house, landlord):
    first = factories.make_move_in(db_session, landlord, house.id,
                                   [factories.occupant(name="张三"), factories.occupant(name="李四")])
    second = factories.make_move_in(db_session, landlord, house.id, [factories.occupant(name="王五")])
    gone = db_session.scalar(select(Tenancy).where(Tenancy.submission_id == first.id).order_by(Tenancy.id))
    gone.move_out_date = reporting.local_today()
    db_session.commit()

    residents = reporting.reportable_house(db_session, landlord, house.id).residents
    assert [r.submission_id for r in residents] == [first.id, second.id]
    assert gone.person.id_index not in {r.id_index for r in residents}
    assert all(r.id_type == "resident_id" and r.birth_date is not None for r in residents)


def test_another_owners_house_does_not_exist(db_session, house, landlord):
    other = factories.make_user(db_session, role="landlord")
    with pytest.raises(NotFound):
        reporting.reportable_house(db_session, other, house.id)
    with pytest.raises(NotFound):
        reporting.reportable_house(db_session, landlord, house.id + 1000)


def test_the_read_walks_indexes_and_never_a_whole_table(db_session, house, landlord):
    """A nested join here once made SQLite scan every tenancy of the city for each move-in. The statement is
    explained exactly as the service ran it."""
    connection = db_session.connection()
    ran = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        ran.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        reporting.reportable_house(db_session, landlord, house.id)
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    [(statement, parameters)] = ran
    if connection.dialect.name == "sqlite":
        plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
        assert plan and all(step.startswith(("SEARCH", "USE TEMP B-TREE FOR ORDER BY", "CORRELATED SCALAR SUBQUERY"))
                            for step in plan), plan
    else:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a small test table would invite one
        plan = [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)]
        assert not [step for step in plan if "Seq Scan" in step], plan
