"""One standing tenancy per person and house, one employment per person and unit, kept by the database.

The attack run sent 20 identical move-ins at once without an Idempotency-Key and got 2 to 9 tenancies of
one person in one house on PostgreSQL. Now a partial unique index stops the second, and its request is
answered 409 "already reported as living in this house", never a 500. Real threads and connections.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import Employment, RecordStatus, Tenancy
from tests import factories
from tests.integration.api.conftest import ApiClient
from tests.integration.api.test_idempotency import committed_landlord, move_in_body  # noqa: F401 (a fixture)


def test_twenty_identical_move_ins_at_once_make_one_tenancy(app, committed_landlord):  # noqa: F811
    ids, secret = committed_landlord
    body, url = move_in_body(), f"/api/v1/houses/{ids['house']}/move-ins"
    barrier, results = threading.Barrier(20), []

    def send():
        client = ApiClient(app.test_client(), secret)
        barrier.wait()
        r = client.post(url, json=body)
        results.append((r.status_code, r.get_json()))

    threads = [threading.Thread(target=send) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 19, statuses
    for status, problem in results:
        if status == 409:
            assert [(e["field"], e["code"]) for e in problem["errors"]] == [("occupants.0.id_number",
                                                                             "already_living_here")]
    with Session(db.engine) as s:
        standing = s.scalar(select(func.count()).select_from(Tenancy).where(
            Tenancy.house_id == ids["house"], Tenancy.move_out_date.is_(None)))
    assert standing == 1


def test_the_database_refuses_a_second_standing_tenancy(db_session, landlord, district):
    house = factories.make_house(db_session, landlord, district.addresses[0]).house
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()])
    first = db_session.scalar(select(Tenancy).where(Tenancy.submission_id == sub.id))
    twin = {"house_id": house.id, "person_id": first.person_id, "submission_id": sub.id,
            "move_in_date": first.move_in_date, "declared_name": "张三"}
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(Tenancy(**twin, status=RecordStatus.verified))
        db_session.flush()
    # An ended or refused tenancy is history, not a second standing one.
    db_session.add_all([Tenancy(**{**twin, "move_out_date": first.move_in_date}, status=RecordStatus.ended),
                        Tenancy(**twin, status=RecordStatus.rejected)])
    db_session.flush()


def test_the_database_refuses_a_second_standing_employment(db_session, district):
    employer = factories.make_user(db_session, role="employer")
    officer = factories.make_user(db_session, role="officer", station=district.stations[0])
    unit_id = factories.make_unit(db_session, employer, district.addresses[0], verified_by=officer).unit_id
    factories.make_hire(db_session, employer, unit_id)
    first = db_session.scalar(select(Employment).where(Employment.unit_id == unit_id))
    twin = {"unit_id": unit_id, "person_id": first.person_id, "submission_id": first.submission_id,
            "declared_name": "赵六"}
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(Employment(**twin, status=RecordStatus.pending))
        db_session.flush()
    db_session.add(Employment(**{**twin, "departure_date": first.hire_date}, status=RecordStatus.ended))
    db_session.flush()
