"""The quality rates (services/quality.py), pinned on hand-built data: exact numerators and denominators."""
from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.models import Address, Decision, House, Submission
from portal.services import quality
from portal.services.errors import NotFound, ValidationFailed
from tests import factories

LOCAL = ZoneInfo("Asia/Shanghai")
PERIOD = quality.Period(date(2026, 3, 2), date(2026, 3, 15))  # Monday to Sunday: two weeks
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=LOCAL)
_receipts = itertools.count(1)


def at(day: int, hour: int = 12, minute: int = 0, month: int = 3) -> datetime:
    """A local (Beijing) time in March 2026, as the UTC time the database keeps."""
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL).astimezone(UTC)


def sub(session, reporter, beat, kind, filed, *, due=None, status="withdrawn", decisions=(), supersedes=None):
    """One report as it would stand after its life so far; `decisions` are (to_status, time) of officer moves."""
    decided_at = decisions[-1][1] if decisions else None
    s = Submission(kind=kind, reporter_id=reporter.id, beat_id=beat.id, station_id=beat.station_id,
                   status=status, is_open=status in ("pending", "site_visit"), payload={}, flags=[],
                   due_at=due, late=bool(due and filed > due), submitted_at=filed, decided_at=decided_at,
                   receipt=f"Q{next(_receipts):09d}", supersedes_id=supersedes.id if supersedes else None)
    session.add(s)
    session.flush()
    before = "pending"
    for to_status, when in decisions:
        session.add(Decision(submission_id=s.id, actor_id=reporter.id, from_status=before, to_status=to_status,
                             at=when))
        before = to_status
    session.flush()
    return s


@pytest.fixture
def world(db_session, district):
    """Station 1 (beats 0 and 1) and, to be left out of it, station 2 (beat 2)."""
    b0, b1, b2 = district.beats[0], district.beats[1], district.beats[2]
    return {"b0": b0, "b1": b1, "b2": b2, "station": district.stations[0],
            "l1": factories.make_user(db_session, role="landlord"),
            "l2": factories.make_user(db_session, role="landlord")}


def figures(session, district, **kw):
    scope = quality.scope_for(session, "station", district.stations[0].code)
    return quality.report(session, scope, PERIOD, now=NOW, **kw)


def test_coverage_counts_room_addresses_with_a_verified_house(db_session, district, world):
    b0, b1, l1, l2 = world["b0"], world["b1"], world["l1"], world["l2"]
    a0 = district.addresses[0]  # beat 0, room 402
    rooms = [factories.make_address(db_session, b0, building="1栋", room=str(r)) for r in (101, 102)]
    a4 = factories.make_address(db_session, b1, building="2栋", room="201")
    building = factories.make_address(db_session, b0, building="9栋")  # not a room: not counted
    db_session.flush()
    assert {a.level.value for a in (a0, *rooms, a4)} == {"room"} and building.level.value == "building"

    def house(address, owner, status):
        db_session.add(House(address_id=address.id, owner_id=owner.id, beat_id=address.beat_id,
                             use="whole_rental", max_occupants=2, status=status))

    house(a0, l1, "verified")
    house(a0, l2, "verified")  # a second verified house at one address: the address counts once
    house(rooms[0], l1, "pending")  # declared, not verified
    house(rooms[1], l2, "rejected")
    house(a4, l2, "verified")
    house(building, l1, "verified")
    house(district.addresses[1], l1, "verified")  # station 2
    db_session.flush()

    r = figures(db_session, district)
    assert r.total.coverage.as_json() == {"rate": 0.5, "numerator": 2, "denominator": 4}
    assert [(b.code, b.figures.coverage.numerator, b.figures.coverage.denominator) for b in r.beats] == [
        (b0.code, 1, 3), (b1.code, 1, 1)]
    # a reporter's coverage: the room addresses of their own houses
    mine = quality.report(db_session, quality.scope_for(db_session, "reporter", l1.phone), PERIOD, now=NOW)
    assert (mine.total.coverage.numerator, mine.total.coverage.denominator) == (2, 3)  # a0, station 2; rooms[0]
    # coverage is a count of now: weeks carry none
    assert all(w.figures.coverage.denominator == 0 for w in r.weeks)


def test_timeliness_counts_reports_filed_by_their_due_time(db_session, district, world):
    b0, b1, b2, l1 = world["b0"], world["b1"], world["b2"], world["l1"]
    sub(db_session, l1, b0, "move_in", at(3, 10), due=at(6, 0))  # on time, week 1
    sub(db_session, l1, b0, "move_out", at(4, 9), due=at(4, 9))  # filed at its due time: on time
    sub(db_session, l1, b0, "move_out", at(10, 9), due=at(9, 0))  # late, week 2
    sub(db_session, l1, b1, "move_in", at(15, 23, 59), due=at(12, 0), status="pending")  # late, last minute
    sub(db_session, l1, b0, "hire", at(5), status="confirmed")  # no due time: counted apart
    sub(db_session, l1, b0, "departure", at(11))  # no due time
    sub(db_session, l1, b0, "house_registration", at(5), due=at(6))  # not a timed kind
    sub(db_session, l1, b0, "move_in", at(1, 23, 59), due=at(3))  # local 1 March: before the period
    sub(db_session, l1, b0, "move_in", at(2, 0, 0), due=at(3))  # local midnight 2 March: in it, on time
    sub(db_session, l1, b0, "move_in", at(16, 0, 0), due=at(17))  # local 16 March: after it
    sub(db_session, l1, b2, "move_in", at(5), due=at(6))  # station 2

    r = figures(db_session, district)
    assert r.total.timeliness.as_json() == {"rate": 0.6, "numerator": 3, "denominator": 5}
    assert r.total.without_due_time == 2
    assert [(w.start, w.end, w.figures.timeliness.numerator, w.figures.timeliness.denominator)
            for w in r.weeks] == [(date(2026, 3, 2), date(2026, 3, 8), 3, 3),
                                  (date(2026, 3, 9), date(2026, 3, 15), 0, 2)]
    assert [(b.figures.timeliness.numerator, b.figures.timeliness.denominator) for b in r.beats] == [(3, 4), (0, 1)]
    data = r.as_json()
    assert data["timeliness"] == {"rate": 0.6, "numerator": 3, "denominator": 5}
    assert data["timeliness_without_due_time"] == 2


def test_accuracy_is_confirmed_without_an_earlier_rejection_in_the_chain(db_session, district, world):
    b0, b2, l1 = world["b0"], world["b2"], world["l1"]
    s = lambda *a, **k: sub(db_session, l1, b0, *a, **k)  # noqa: E731
    s("move_in", at(3), status="confirmed", decisions=[("confirmed", at(4))])  # accurate
    s("move_in", at(3), status="rejected", decisions=[("rejected", at(4))])  # decided, not accurate
    early = s("move_in", at(1, month=2), status="superseded", decisions=[("rejected", at(2, month=2))])
    s("move_in", at(3), status="confirmed", decisions=[("confirmed", at(5))], supersedes=early)  # not accurate
    s("move_in", at(3), status="site_visit", decisions=[("site_visit", at(4))])  # not decided yet
    s("move_in", at(3), status="confirmed", decisions=[("site_visit", at(4)), ("confirmed", at(10))])  # accurate
    s("move_in", at(3), status="superseded", decisions=[("rejected", at(11))])  # rejected, then corrected
    pending_then_corrected = s("move_in", at(3), status="superseded")  # corrected before anyone decided
    s("move_in", at(4), status="confirmed", decisions=[("confirmed", at(12))],
      supersedes=pending_then_corrected)  # accurate: no rejection in its chain
    k = s("move_in", at(1, month=2), status="superseded", decisions=[("rejected", at(3, month=2))])
    middle = s("move_in", at(4, month=2), status="superseded", supersedes=k)
    s("move_in", at(5), status="confirmed", decisions=[("confirmed", at(13))], supersedes=middle)  # two back
    s("move_in", at(3), status="confirmed", decisions=[("confirmed", at(16, 1))])  # after the period
    s("move_in", at(3), status="withdrawn")  # never decided
    sub(db_session, l1, b2, "move_in", at(3), status="confirmed", decisions=[("confirmed", at(4))])  # station 2

    r = figures(db_session, district)
    assert r.total.accuracy.as_json() == {"rate": 3 / 7, "numerator": 3, "denominator": 7}
    assert [(w.figures.accuracy.numerator, w.figures.accuracy.denominator) for w in r.weeks] == [(1, 3), (2, 4)]


def test_verification_time_is_filing_to_first_decision(db_session, district, world):
    b0, b2, l1 = world["b0"], world["b2"], world["l1"]
    s = lambda *a, **k: sub(db_session, l1, b0, *a, **k)  # noqa: E731
    s("move_in", at(3, 0), status="confirmed", decisions=[("confirmed", at(3, 10))])  # 10 h
    s("move_in", at(3, 0), status="rejected", decisions=[("rejected", at(4, 2))])  # 26 h
    s("move_in", at(3, 0), status="confirmed", decisions=[("site_visit", at(3, 5)), ("confirmed", at(9))])  # 5 h
    s("house_registration", at(5, 0), status="site_visit", decisions=[("site_visit", at(7, 0))])  # 48 h
    s("move_in", at(20, month=2), status="confirmed",
      decisions=[("site_visit", at(28, month=2)), ("confirmed", at(5))])  # first decision before the period
    s("move_in", at(10, 0), status="pending")  # not decided
    sub(db_session, l1, b2, "move_in", at(3, 0), status="confirmed", decisions=[("confirmed", at(3, 1))])

    r = figures(db_session, district)
    assert sorted(r.total.hours) == [5, 10, 26, 48]
    assert r.total.verification_hours_median == 18  # between 10 and 26
    assert r.total.verification_hours_p90 == pytest.approx(26 + 0.7 * 22)  # percentile_cont(0.9)
    assert [sorted(w.figures.hours) for w in r.weeks] == [[5, 10, 26, 48], []]
    data = r.as_json()
    assert data["verification_hours_median"] == 18 and data["verification_hours_p90"] == 41.4


def test_open_items_older_than_three_days(db_session, district, world):
    b0, b1, b2, l1 = world["b0"], world["b1"], world["b2"], world["l1"]
    sub(db_session, l1, b0, "move_in", at(12, 11, 59), status="pending")  # 72 h 1 min before NOW
    sub(db_session, l1, b1, "move_in", at(1, month=2), status="site_visit", decisions=[("site_visit", at(2))])
    sub(db_session, l1, b0, "move_in", at(12, 12, 1), status="pending")  # younger than 3 days
    sub(db_session, l1, b0, "move_in", at(1), status="confirmed", decisions=[("confirmed", at(2))])  # decided
    sub(db_session, l1, b2, "move_in", at(1), status="pending")  # station 2
    r = figures(db_session, district)
    assert r.total.open_older_than_3_days == 2
    assert [b.figures.open_older_than_3_days for b in r.beats] == [1, 1]


def test_empty_scope_has_null_rates(db_session, district):
    r = figures(db_session, district)
    data = r.as_json()
    for name in ("coverage", "timeliness", "accuracy"):
        if name == "coverage":
            continue  # the district has a room address in beat 0
        assert data[name] == {"rate": None, "numerator": 0, "denominator": 0}
    assert data["coverage"] == {"rate": 0.0, "numerator": 0, "denominator": 1}
    assert data["verification_hours_median"] is None and data["verification_hours_p90"] is None
    assert data["open_older_than_3_days"] == 0


def test_scopes_bureau_beat_and_reporter(db_session, district, world):
    b0, b1, b2, l1, l2 = world["b0"], world["b1"], world["b2"], world["l1"], world["l2"]
    sub(db_session, l1, b0, "move_in", at(3), due=at(4))
    sub(db_session, l2, b1, "move_in", at(3), due=at(2))
    sub(db_session, l1, b2, "move_in", at(3), due=at(4))

    def timeliness(kind, code):
        r = quality.report(db_session, quality.scope_for(db_session, kind, code), PERIOD, now=NOW)
        return r.total.timeliness.numerator, r.total.timeliness.denominator

    assert timeliness("bureau", district.bureau.code) == (2, 3)
    assert timeliness("station", district.stations[0].code) == (1, 2)
    assert timeliness("beat", b1.code) == (0, 1)
    assert timeliness("reporter", l1.phone) == (2, 2)
    for kind in ("bureau", "station", "beat", "reporter"):
        with pytest.raises(NotFound):
            quality.scope_for(db_session, kind, "NO-SUCH-CODE")


def test_officer_scope_is_the_queue_scope(db_session, district):
    station_officer = factories.make_user(db_session, role="officer", station=district.stations[0])
    beat_officer = factories.make_user(db_session, role="officer", beat=district.beats[1])
    landlord = factories.make_user(db_session, role="landlord")
    s = quality.scope_of_officer(db_session, station_officer)
    assert (s.kind, set(s.beat_ids)) == ("station", {district.beats[0].id, district.beats[1].id})
    b = quality.scope_of_officer(db_session, beat_officer)
    assert (b.kind, b.beat_ids) == ("beat", (district.beats[1].id,))
    with pytest.raises(NotFound):
        quality.scope_of_officer(db_session, landlord)


def test_periods(db_session):
    today = date(2026, 3, 15)
    assert quality.parse_period(None, None, today) == quality.Period(date(2026, 2, 14), today)
    assert quality.parse_period("2026-03-01", "2026-03-01", today) == quality.Period(date(2026, 3, 1),
                                                                                     date(2026, 3, 1))
    assert quality.Period(date(2026, 3, 4), date(2026, 3, 4)).weeks() == [(date(2026, 3, 4), date(2026, 3, 4))]
    assert len(quality.Period(date(2026, 3, 1), date(2026, 3, 31)).weeks()) == 6  # Sun; 4 whole weeks; Mon-Tue
    for start, end, code in [("2026-03-10", "2026-03-09", "end_before_start"), ("2026-3-1x", None, "bad_date"),
                             (None, "yesterday", "bad_date"), ("2024-01-01", "2026-01-01", "too_long")]:
        with pytest.raises(ValidationFailed) as failure:
            quality.parse_period(start, end, today)
        assert [e.code for e in failure.value.errors] == [code]


def test_one_day_period_groups_in_one_week(db_session, district, world):
    sub(db_session, world["l1"], world["b0"], "move_in", at(4), due=at(5))
    scope = quality.scope_for(db_session, "station", district.stations[0].code)
    r = quality.report(db_session, scope, quality.Period(date(2026, 3, 4), date(2026, 3, 4)), now=NOW)
    assert (r.total.timeliness.numerator, r.total.timeliness.denominator) == (1, 1) and len(r.weeks) == 1


# --- the command ------------------------------------------------------------------------------------

@pytest.fixture
def cli(app, db_session):
    return app.test_cli_runner()


def test_cli_prints_the_same_figures_as_json(cli, db_session, district, world):
    sub(db_session, world["l1"], world["b0"], "move_in", at(3), due=at(4), status="confirmed",
        decisions=[("confirmed", at(3, 18))])
    sub(db_session, world["l1"], world["b1"], "move_in", at(3), due=at(2), status="rejected",
        decisions=[("rejected", at(4))])
    db_session.commit()
    result = cli.invoke(args=["quality", "--station", district.stations[0].code, "--from", "2026-03-02",
                              "--to", "2026-03-15", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = figures(db_session, district).as_json()
    for key in ("coverage", "timeliness", "accuracy", "verification_hours_median", "verification_hours_p90"):
        assert data[key] == expected[key]
    assert data["timeliness"] == {"rate": 0.5, "numerator": 1, "denominator": 2}
    assert data["accuracy"] == {"rate": 0.5, "numerator": 1, "denominator": 2}
    assert data["verification_hours_median"] == 15.0 and isinstance(data["open_older_than_3_days"], int)
    for kind, code in (("--bureau", district.bureau.code), ("--beat", world["b0"].code)):
        assert cli.invoke(args=["quality", kind, code, "--json"]).exit_code == 0
    text = cli.invoke(args=["quality", "--beat", world["b0"].code])
    assert text.exit_code == 0 and world["b0"].code in text.output


@pytest.mark.parametrize("args", [
    ["--station", "NO-SUCH"], ["--beat", "NO-SUCH"], ["--bureau", "NO-SUCH"], ["--reporter", "10000000000"],
    [], ["--station", "T-S1", "--beat", "T-S1-1"],
    ["--station", "T-S1", "--from", "2026-03-10", "--to", "2026-03-01"],
    ["--station", "T-S1", "--from", "2026-02-30"],
])
def test_cli_bad_input_is_a_message_and_exit_status_1(cli, db_session, district, args):
    result = cli.invoke(args=["quality", *args, "--json"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.strip() and "Traceback" not in result.output


def test_addresses_in_test_data_are_room_level(db_session, district):
    assert all(isinstance(a, Address) and a.level.value == "room" for a in district.addresses)


def test_utc_bounds_are_local_days():
    start, end = PERIOD.bounds
    assert start == datetime(2026, 3, 1, 16, 0, tzinfo=UTC) and end == datetime(2026, 3, 15, 16, 0, tzinfo=UTC)
    assert end - start == timedelta(days=14)
