"""The officers' quality page: their own jurisdiction only, a period form, bad input a message, never a 500."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.models import Submission
from portal.services import quality
from tests import factories
from tests.browser import FormClient, parse
from tests.factories import english, text_of


def signed_in(app, user) -> FormClient:
    c = FormClient(app.test_client())
    c.sign_in(user.phone, factories.PASSWORD, totp_secret=user.totp_secret)
    return english(c)


def file(session, reporter, beat, *, late: bool, hours_ago: int = 30):
    filed = datetime.now(UTC) - timedelta(hours=hours_ago)
    due = filed - timedelta(hours=1) if late else filed + timedelta(hours=1)
    session.add(Submission(kind="move_in", reporter_id=reporter.id, beat_id=beat.id, station_id=beat.station_id,
                           status="withdrawn", is_open=False, payload={}, flags=[], due_at=due, late=late,
                           submitted_at=filed, receipt=f"P{session.info.setdefault('n', 0) + 1:09d}"))
    session.info["n"] = session.info.get("n", 0) + 1
    session.flush()


@pytest.fixture
def data(db_session, district, landlord):
    # station 1: beat 0 one on time and one late, beat 1 one on time; station 2: five late
    b0, b1, b2 = district.beats[0], district.beats[1], district.beats[2]
    for beat, late in ((b0, False), (b0, True), (b1, False), *((b2, True),) * 5):
        file(db_session, landlord, beat, late=late)
    db_session.commit()


def summary(page) -> str:
    return text_of(page.find(id="q-timeliness"))


def test_station_officer_sees_the_station_and_each_beat(officer_client, db_session, district, data):
    page = parse(english(officer_client).get("/officer/quality"))
    assert text_of(page.find(id="quality-scope")) == district.stations[0].name
    assert "66.7%" in summary(page) and "2 of 3 reports on time" in summary(page)
    beats = {row["data-beat"]: text_of(row) for row in page.select("#quality-beats tbody tr")}
    assert set(beats) == {district.beats[0].code, district.beats[1].code}
    assert "50.0% (1/2)" in beats[district.beats[0].code] and "100.0% (1/1)" in beats[district.beats[1].code]
    assert page.select("#trend-timeliness svg.chart rect") and page.select("#trend-timeliness table")
    assert page.find("details", class_="definitions") is not None
    for name in ("from", "to"):
        assert page.find("input", attrs={"name": name})["value"]


def test_beat_officer_sees_the_beat_only(app, db_session, district, data):
    c = signed_in(app, factories.make_user(db_session, role="officer", beat=district.beats[1]))
    page = parse(c.get("/officer/quality"))
    assert text_of(page.find(id="quality-scope")) == district.beats[1].name
    assert "1 of 1 reports on time" in summary(page) and page.find(id="quality-beats") is None


@pytest.mark.parametrize("query", ["?station=T-S2", "?beat=T-S2-1", "?bureau=T-B1", "?scope=station&code=T-S2",
                                   "?station_id=2&beat_id=3"])
def test_another_jurisdiction_in_the_query_string_is_ignored(officer_client, db_session, district, data, query):
    english(officer_client)
    own = summary(parse(officer_client.get("/officer/quality")))
    response = officer_client.get("/officer/quality" + query)
    assert response.status_code == 200
    page = parse(response)
    assert summary(page) == own and text_of(page.find(id="quality-scope")) == district.stations[0].name
    assert district.stations[1].name not in response.get_data(as_text=True)


def test_officer_of_the_other_station_never_sees_these_figures(app, db_session, district, data):
    c = signed_in(app, factories.make_user(db_session, role="officer", station=district.stations[1]))
    page = parse(c.get("/officer/quality"))
    assert "0 of 5 reports on time" in summary(page)
    assert district.beats[0].name not in text_of(page)


@pytest.mark.parametrize(("query", "field", "message"), [
    ("?from=2026-03-10&to=2026-03-01", "to", "The period must end on or after the day it starts."),
    ("?from=2026-02-30", "from", "Enter a date as YYYY-MM-DD"),
    ("?from=yesterday&to=%ff", "from", "Enter a date as YYYY-MM-DD"),
    ("?to=" + "9" * 500, "to", "Enter a date as YYYY-MM-DD"),
    ("?from=2020-01-01&to=2026-01-01", "from", "Choose a period of at most 366 days."),
])
def test_bad_periods_are_a_message_at_the_field(officer_client, db_session, district, query, field, message):
    response = english(officer_client).get("/officer/quality" + query)
    assert response.status_code == 400
    page = parse(response)
    assert message in text_of(page.select_one(".error-summary"))
    assert message in text_of(page.find("input", attrs={"name": field}).find_parent(class_="field"))
    assert text_of(page.find("title")).startswith("Error:")


def test_a_nul_in_the_period_is_the_400_page_of_any_such_address(officer_client):
    """A NUL in a query string is refused before any view (tests/integration/test_not_text.py)."""
    response = english(officer_client).get("/officer/quality?from=yesterday&to=%00")
    assert response.status_code == 400
    assert text_of(parse(response).find("title")).startswith("Something is wrong with the request")


def test_a_chosen_period_is_used(officer_client, db_session, district, data):
    today = quality.local_today()
    page = parse(english(officer_client).get(f"/officer/quality?from={today - timedelta(days=400 - 366)}"
                                             f"&to={today}"))
    assert "2 of 3" in summary(page)
    old = parse(officer_client.get("/officer/quality?from=2020-01-01&to=2020-01-31"))
    assert "0 of 0" in summary(old) and "—" in summary(old)
    assert len(old.select("#trend-timeliness tbody tr")) == 5  # cut at each Monday
    assert date(2020, 1, 27).isoformat() in text_of(old.find(id="trend-timeliness"))


def test_quality_page_is_for_officers_only(client, landlord_client, db_session):
    assert client.get("/officer/quality").status_code == 302
    assert landlord_client.get("/officer/quality").status_code == 404


@pytest.mark.parametrize(("query", "field"), [
    ("?from=0001-01-01&to=0001-01-02", "from"),
    ("?to=0001-01-01", "to"),
    ("?from=9999-12-30&to=9999-12-31", "from"),
    ("?from=9999-01-01&to=9999-12-31", "from"),
])
def test_a_day_at_the_ends_of_the_calendar_is_a_message_at_the_field_not_a_500(officer_client, db_session, district,
                                                                              query, field):
    """Days that Python's dates hold but a period cannot reach from (30 days before 0001-01-01, the UTC start of
    9999-12-31 in Beijing...) raised OverflowError."""
    response = english(officer_client).get("/officer/quality" + query)
    assert response.status_code == 400
    page = parse(response)
    assert "Enter a day between 2000-01-01 and 2099-12-31." in text_of(
        page.find("input", attrs={"name": field}).find_parent(class_="field"))
