"""An officer never reaches outside their jurisdiction: item pages, decisions, reveals, the queue
and its count. A station officer sees every beat of the station, a beat officer only the beat."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Decision, Submission
from portal.services import queue
from tests import factories
from tests.browser import FormClient, parse
from tests.factories import english, text_of


def queue_ids(client, query: str = "") -> list[int]:
    page = parse(client.get(f"/officer/queue{query}"))
    return [int(a["href"].rsplit("/", 1)[1]) for a in page.select("table.queue tbody tr td.queue-when a")]


def open_count(client) -> int:
    return int(text_of(parse(client.get("/officer/queue")).find(id="open-count")))


def signed_in(app, user) -> FormClient:
    c = FormClient(app.test_client())
    c.sign_in(user.phone, factories.PASSWORD, totp_secret=user.totp_secret)
    return english(c)


@pytest.fixture
def world(db_session, district, landlord):
    """Open items in each beat that has an address: beats[0], beats[1] (station 1), beats[2] (station 2)."""
    beat1_address = factories.make_address(db_session, district.beats[1], road="建设路", door_no="7号",
                                           community="", building="1栋", unit="1单元", room="201")
    db_session.commit()
    items = {}
    places = (("s1b0", district.addresses[0]), ("s1b1", beat1_address), ("s2", district.addresses[1]))
    for name, address in places:
        reg = factories.make_house(db_session, landlord, address)
        move_in = factories.make_move_in(db_session, landlord, reg.house_id,
                                         [factories.occupant(name="李四")])
        items[name] = [reg, move_in]
    return items


def _state(session):
    session.expire_all()
    return (sorted((s.id, s.status, s.version) for s in session.scalars(select(Submission))),
            session.scalar(select(func.count()).select_from(Decision)),
            session.scalar(select(func.count()).select_from(AuditEvent)
                           .where(AuditEvent.action == "id.reveal")))


def test_station_1_officer_gets_404_for_station_2_items(officer_client, db_session, world):
    english(officer_client)
    token = factories.csrf_token(officer_client)
    before = _state(db_session)
    for sub in world["s2"]:
        assert officer_client.get(f"/officer/items/{sub.id}").status_code == 404
        decide = officer_client.post(f"/officer/items/{sub.id}/decide", data={
            "csrf_token": token, "action": "confirmed", "version": str(sub.version)})
        assert decide.status_code == 404
        reveal = officer_client.post(f"/officer/items/{sub.id}/reveal",
                                     data={"csrf_token": token, "person": "0", "confirm": "1"})
        assert reveal.status_code == 404
    assert _state(db_session) == before
    # The same requests on an item of their own station do get through (the test can fail).
    own = world["s1b0"][1]
    assert officer_client.get(f"/officer/items/{own.id}").status_code == 200


def test_station_2_items_are_never_in_station_1_s_queue_or_count(officer_client, db_session, district, world):
    english(officer_client)
    station1 = {s.id for s in world["s1b0"] + world["s1b1"]}
    assert set(queue_ids(officer_client)) == station1
    assert open_count(officer_client) == len(station1) == 4
    # Not through a filter either: asking for station 2's beat shows nothing of it.
    for beat in district.beats[2:]:
        assert not set(queue_ids(officer_client, f"?beat={beat.id}")) & {s.id for s in world["s2"]}
    for kind in ("move_in", "house_registration"):
        assert not set(queue_ids(officer_client, f"?kind={kind}")) & {s.id for s in world["s2"]}


def test_station_2_officer_sees_station_2(app, db_session, district, world):
    other = factories.make_user(db_session, role="officer", station=district.stations[1])
    c = signed_in(app, other)
    assert set(queue_ids(c)) == {s.id for s in world["s2"]}
    assert open_count(c) == 2
    for sub in world["s1b0"]:
        assert c.get(f"/officer/items/{sub.id}").status_code == 404


def test_a_beat_officer_sees_only_their_beat(app, db_session, district, world):
    beat_officer = factories.make_user(db_session, role="officer", beat=district.beats[0])
    c = signed_in(app, beat_officer)
    own = {s.id for s in world["s1b0"]}
    assert set(queue_ids(c)) == own
    assert open_count(c) == 2
    assert set(queue_ids(c, f"?beat={district.beats[1].id}")) <= own
    for sub in world["s1b1"] + world["s2"]:
        assert c.get(f"/officer/items/{sub.id}").status_code == 404
    assert queue_beats(c) == [district.beats[0].id]
    # The service agrees with the pages.
    page = queue.queue_page(db_session, beat_officer, queue.Filters(beat_id=district.beats[1].id))
    assert page.items == []
    assert queue.open_count(db_session, beat_officer) == 2


def queue_beats(client) -> list[int]:
    """The beats offered in the queue's beat filter."""
    options = parse(client.get("/officer/queue")).find("select", attrs={"name": "beat"}).find_all("option")
    return [int(o["value"]) for o in options if o.get("value")]


def test_decided_items_leave_the_queue_and_the_count(officer_client, db_session, officer, world):
    english(officer_client)
    factories.decide(db_session, world["s1b0"][0], officer, "confirmed")
    factories.decide(db_session, world["s1b0"][1], officer, "site_visit")
    ids = queue_ids(officer_client)
    assert world["s1b0"][0].id not in ids and world["s1b0"][1].id in ids  # a site visit stays open
    assert open_count(officer_client) == 3
