"""Two POSTs of one move-in draft at the same moment (a double click that two server threads take at once):
both get the receipt of the one submission. Real separate connections on committed data, on SQLite and
PostgreSQL."""
from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import (
    Address,
    AuditEvent,
    Beat,
    Bureau,
    Draft,
    House,
    Person,
    Station,
    Submission,
    SubmissionKind,
    Tenancy,
    User,
)
from portal.services import reporting
from tests import factories
from tests.browser import FormClient, parse
from tests.factories import post_form

ROUNDS = 4


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:300])
    return urlsplit(response.headers["Location"]).path


@pytest.fixture
def committed(app):
    """A district, a landlord and a registered house, committed; everything made is deleted afterwards."""
    ids: dict = {}
    with Session(db.engine) as s:
        d = factories.make_district(s)
        landlord = factories.make_user(s, role="landlord")
        s.commit()
        house = factories.make_house(s, landlord, d.addresses[0], max_occupants=20).house
        ids.update(bureau=d.bureau.id, stations=[st.id for st in d.stations], beats=[b.id for b in d.beats],
                   user=landlord.id, phone=landlord.phone, house=house.id)
    try:
        yield ids
    finally:
        with Session(db.engine) as s:
            people = s.scalars(select(Tenancy.person_id).where(Tenancy.house_id == ids["house"])).all()
            s.execute(delete(Tenancy).where(Tenancy.house_id == ids["house"]))
            s.execute(delete(Person).where(Person.id.in_(people)))
            s.execute(delete(AuditEvent).where(AuditEvent.actor_id == ids["user"]))
            s.execute(delete(Submission).where(Submission.reporter_id == ids["user"]))
            s.execute(delete(House).where(House.id == ids["house"]))
            s.execute(delete(Draft).where(Draft.owner_id == ids["user"]))
            s.execute(delete(User).where(User.id == ids["user"]))
            s.execute(delete(Address).where(Address.beat_id.in_(ids["beats"])))
            s.execute(delete(Beat).where(Beat.id.in_(ids["beats"])))
            s.execute(delete(Station).where(Station.id.in_(ids["stations"])))
            s.execute(delete(Bureau).where(Bureau.id == ids["bureau"]))
            s.commit()


def _check_page(client: FormClient, house_id: int, round_no: int) -> str:
    person0 = location(client.get(f"/landlord/houses/{house_id}/move-in"))
    p = factories.occupant(name="李四", birth=f"199{round_no}0101")
    another = location(client.submit(person0, {"id_type": "resident_id", "id_number": p["id_number"],
                                                "name": p["name"], "relation": "main_tenant"}))
    dates = location(client.submit(another, {"another": "no"}))
    return location(client.submit(dates, {"move_in_date": reporting.local_today().isoformat()}))


def _click(barrier, results: dict, n: int, client: FormClient, page, check: str) -> None:
    """One click's POST, in its own thread (its own request context and database connection)."""
    barrier.wait()
    try:
        results[n] = post_form(client, page, check)
    except Exception as error:  # noqa: BLE001 - shown by the assertion on the results
        results[n] = error
    finally:
        db.session.remove()


def test_two_posts_of_one_draft_at_once_both_get_the_one_receipt(app, committed):
    first = FormClient(app.test_client())
    first.sign_in(committed["phone"], factories.PASSWORD)
    second = FormClient(app.test_client())
    for round_no in range(ROUNDS):
        check = _check_page(first, committed["house"], round_no)
        page = parse(first.get(check))  # the page both clicks were made on
        # The same browser: the same session cookie (as it is now, holding the form's CSRF token).
        second.client.set_cookie("session", first.client.get_cookie("session").value, domain="localhost")
        barrier = threading.Barrier(2)
        results: dict[int, object] = {}
        threads = [threading.Thread(target=_click, args=(barrier, results, n, c, page, check))
                   for n, c in enumerate((first, second))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads)

        statuses = [getattr(r, "status_code", r) for r in results.values()]
        assert statuses == [302, 302], (round_no, statuses)
        receipts = {location(r) for r in results.values()}
        with Session(db.engine) as s:
            filed = s.scalars(select(Submission).where(Submission.reporter_id == committed["user"],
                                                       Submission.kind == SubmissionKind.move_in,
                                                       Submission.form_key == check.split("/")[-2])).all()
            assert len(filed) == 1
            assert receipts == {f"/landlord/submissions/{filed[0].id}/receipt"}
            assert s.scalar(select(Draft).where(Draft.key == check.split("/")[-2])) is None
            assert len(s.scalars(select(Tenancy).where(Tenancy.submission_id == filed[0].id)).all()) == 1
        assert first.get(receipts.pop()).status_code == 200
