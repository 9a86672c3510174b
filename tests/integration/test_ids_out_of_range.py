"""An id no column can hold, in a route or a request value, is a 404 (or ignored as any bad value is), never a
500: SQLite refuses integers beyond 2**63 and PostgreSQL's INTEGER beyond 2**31, and a page that passed such a
number to a query broke on it. Values that only look like digits (², full-width) are no ids either."""
from __future__ import annotations

import pytest

from tests import factories
from tests.browser import parse
from tests.integration.officer.conftest import signed_in

HUGE = ("2147483648", "9223372036854775808", "99999999999999999999")


@pytest.mark.parametrize("value", HUGE)
def test_an_officers_pages_answer_404_to_an_id_no_row_can_have(app, db_session, officer, value):
    c = signed_in(app, officer)
    for url in ("/officer/items/{}", "/officer/uploads/{}", "/officer/register/people/{}",
                "/officer/register/houses/{}", "/officer/register/units/{}", "/officer/register/buildings/{}",
                "/officer/register/places/{}"):
        assert c.get(url.format(value)).status_code == 404, url
    assert c.get(f"/officer/queue?upload={value}").status_code == 200


def test_a_decision_or_a_selection_with_a_version_that_is_no_number_is_refused_not_a_500(app, db_session, district,
                                                                                         landlord, officer):
    sub = factories.make_house(db_session, landlord, district.addresses[0])
    c = signed_in(app, officer)
    url = f"/officer/items/{sub.id}"
    for version in ("abc", "²", "99999999999999999999"):
        response = factories.post_form(c, parse(c.get(url)), url, "/decide",
                                       data={"action": "confirmed", "version": version})
        assert response.status_code == 400, version
    token = factories.csrf_token(c)
    for item in (f"{sub.id}:²", f"²:{sub.version}", f"{HUGE[1]}:1", f"{sub.id}:{HUGE[2]}"):
        response = c.client.post("/officer/queue/confirm", data={"csrf_token": token, "item": item})
        assert response.status_code < 500, item
    db_session.refresh(sub)
    assert sub.status == "pending"


@pytest.mark.parametrize("value", HUGE)
def test_a_clerks_pages_answer_404_to_an_id_no_row_can_have(app, db_session, district, value):
    clerk = factories.make_user(db_session, role="clerk", bureau_id=district.bureau.id)
    c = signed_in(app, clerk)
    for url in ("/clerk/addresses/{}", "/clerk/addresses/{}/history", "/clerk/addresses/{}/edit",
                "/clerk/addresses/{}/retire", "/clerk/buildings/{}", "/clerk/doors/{}", "/clerk/units/{}",
                "/clerk/roads/{}", f"/clerk/merge?first={{}}&second={district.addresses[0].id}"):
        assert c.get(url.format(value)).status_code == 404, url
    assert c.get(f"/clerk/addresses/new?kind=room&from={value}").status_code in (200, 404)
    assert c.get(f"/clerk/merge?first={value}&code=NOPE").status_code == 302


def test_an_auditors_hold_of_an_id_no_row_can_have_is_a_404(app, db_session):
    auditor = factories.make_user(db_session, role="auditor")
    c = signed_in(app, auditor)
    token = factories.csrf_token(c)
    for value in HUGE:
        assert c.client.post(f"/admin/holds/{value}/extend", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("args", ("kind=%20", "beat=%20", "kind=%09&beat=%0A", "beat=%E2%80%83"))
def test_a_queue_filter_of_blanks_is_no_filter_not_a_500(app, db_session, officer, args):
    """WTForms' Optional() stops a SelectField's own check of its choices on a value of blanks, so " " came through
    as a kind (no such SubmissionKind) or a beat (no int)."""
    c = signed_in(app, officer)
    assert c.get(f"/officer/queue?{args}").status_code in (200, 400)


@pytest.mark.parametrize("value", ("²", "１", "٣", HUGE[2]))
def test_moving_a_beat_or_a_place_to_a_number_that_is_no_id_is_refused_at_the_field(app, db_session, district, value):
    """"²".isdigit() is True but int("²") raises: the administrator's move forms took it for an id."""
    admin = factories.make_user(db_session, role="admin")
    c = signed_in(app, admin)
    token = factories.csrf_token(c)
    beat = district.beats[0]
    response = c.client.post(f"/admin/beats/{beat.id}/station", data={"csrf_token": token, "to_station": value})
    assert response.status_code == 400
    response = c.client.post(f"/admin/beats/{beat.id}/move?community=银海花园",
                             data={"csrf_token": token, "to_beat": value})
    assert response.status_code == 400
    db_session.refresh(beat)
    assert beat.station_id == district.stations[0].id
