"""Statements that change many addresses at once (an import's batches, a clerk's bulk move, a Core update or
delete) keep the summaries that addresses feed equal to a recount: the place names (0025) and the beats' room
addresses and covered rooms (0026). On PostgreSQL these are counted once per statement from its transition
tables (migration 0028); a statement's rows that change nothing must add nothing, and a room that goes must take
its covered count with it."""
from __future__ import annotations

from sqlalchemy import case, delete, insert, select, update

from portal.models import Address, AddressLevel, AddressStatus, House
from portal.services import addresses
from tests import factories
from tests.integration.officer.test_quality_summary import full_recount, summary
from tests.integration.test_place_names import _recount, _table


def _rows(beat_id: int, community: str, rooms: range, *, building: str = "1栋") -> list[dict]:
    out = []
    for room in rooms:
        a = Address(division_code="430302", division_name="湖南省湘潭市雨湖区", township="云塘街道", road="建设路",
                    door_no="9号", community=community, building=building, unit="1单元", room=str(room),
                    beat_id=beat_id)
        a.code = addresses.make_code(a.division_code, a.township, a.road, a.door_no, a.community, a.building,
                                     a.unit, a.room)
        addresses.fill_derived(a)
        out.append({c: getattr(a, c) for c in ("code", "division_code", "division_name", "township", "road",
                                                "door_no", "community", "building", "unit", "room", "level",
                                                "beat_id", "door_key", "building_key", "unit_key", "room_key",
                                                "search_text")} | {"status": AddressStatus.active})
    return out


def _check(session) -> None:
    session.flush()
    assert _table(session) == _recount(session)
    assert summary(session) == full_recount(session)


def test_many_rows_in_one_statement_keep_both_summaries_a_recount(db_session, district):
    one, two = district.beats[0].id, district.beats[1].id
    # One INSERT of 60 rows over two beats and two communities.
    db_session.execute(insert(Address), _rows(one, "锦绣花园", range(101, 131)) + _rows(two, "翠竹苑", range(201, 231)))
    _check(db_session)
    assert _table(db_session)[("community", "锦绣花园")] == 30
    # Verified houses on ten rooms of the first beat: they are covered.
    owner = factories.make_user(db_session, role="landlord")
    covered_ids = db_session.scalars(select(Address.id).where(Address.community == "锦绣花园")
                                     .order_by(Address.id).limit(10)).all()
    for address_id in covered_ids:
        db_session.add(House(address_id=address_id, owner_id=owner.id, beat_id=one, use="whole_rental",
                             max_occupants=2, status="verified"))
    _check(db_session)
    before = summary(db_session)
    # One UPDATE whose rows swap their communities (the names' counts must not move) and one that changes
    # nothing the summaries count (a division name).
    db_session.execute(update(Address).where(Address.community.in_(["锦绣花园", "翠竹苑"])).values(
        community=case((Address.community == "锦绣花园", "翠竹苑"), else_="锦绣花园")))
    db_session.execute(update(Address).where(Address.road == "建设路").values(division_name="湘潭市雨湖区"))
    _check(db_session)
    assert summary(db_session) == before
    # One UPDATE moving 20 rooms (5 of them covered) to the other beat, and one making 5 rooms buildings.
    moved = db_session.scalars(select(Address.id).where(Address.beat_id == one).order_by(Address.id)
                               .offset(5).limit(20)).all()
    db_session.execute(update(Address).where(Address.id.in_(moved)).values(beat_id=two))
    db_session.execute(update(Address).where(Address.id.in_(covered_ids[:2] + moved[-3:]))
                       .values(level=AddressLevel.building))
    _check(db_session)
    # One UPDATE retiring half a community and one deleting rooms with and without houses (the houses first).
    db_session.execute(update(Address).where(Address.community == "翠竹苑", Address.room < "2")
                       .values(status=AddressStatus.retired))
    _check(db_session)
    gone = db_session.scalars(select(Address.id).where(Address.road == "建设路").order_by(Address.id).limit(40)).all()
    db_session.execute(delete(House).where(House.address_id.in_(gone)))
    db_session.execute(delete(Address).where(Address.id.in_(gone)))
    _check(db_session)
    assert ("community", "翠竹苑") not in _table(db_session)  # its active rooms were all among the 40
