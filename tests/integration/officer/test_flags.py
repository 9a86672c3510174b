"""Automatic flags, computed when a report is filed: they never block it, and the officer sees why."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.models import Person, Submission, SubmissionStatus, Tenancy
from portal.services import flags, reporting
from tests import factories
from tests.browser import parse
from tests.factories import english, text_of

DEADLINE = 3


def codes(sub) -> list[str]:
    return sorted(f["code"] for f in sub.flags)


@pytest.fixture
def house(db_session, district, landlord):
    return factories.make_house(db_session, landlord, district.addresses[0], max_occupants=4).house


@pytest.fixture
def other_house(db_session, district):
    owner = factories.make_user(db_session, role="landlord")
    return factories.make_house(db_session, owner, district.addresses[1], max_occupants=4).house, owner


def assert_filed(sub) -> None:
    """A flag never blocks: the report is filed, pending, in the queue."""
    assert sub.id is not None and sub.receipt and sub.status == SubmissionStatus.pending and sub.is_open


def test_a_plain_report_has_no_flags(db_session, landlord, house):
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()])
    assert (sub.flags, sub.flagged, sub.late) == ([], False, False)


# --- other_tenancy ------------------------------------------------------------------------------------

def test_a_person_living_at_another_house_is_flagged(db_session, landlord, house, other_house):
    elsewhere, owner = other_house
    person = factories.occupant(name="李四")
    factories.make_move_in(db_session, owner, elsewhere.id, [person])
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant(), person])
    assert_filed(sub)
    assert sub.flags == [{"code": "other_tenancy", "person": 1, "house_id": elsewhere.id}] and sub.flagged


def test_a_person_reported_again_is_one_row_and_keeps_the_registers_details(db_session, landlord, house,
                                                                              other_house):
    """The same document in two reports: one person row, whose details stay the register's (declared
    details belong to the declaration); the second report is flagged for the first tenancy, and for its
    name differing from the register's."""
    elsewhere, owner = other_house
    first = factories.occupant(name="李四", phone="13800138000")
    factories.make_move_in(db_session, owner, elsewhere.id, [first])
    again = {**first, "name": "李思", "phone": ""}
    sub = factories.make_move_in(db_session, landlord, house.id, [again])
    people = db_session.scalars(select(Person).where(Person.id_number.matches(first["id_number"]))).all()
    assert [(p.name, p.phone) for p in people] == [("李四", "13800138000")]
    assert sorted(codes(sub)) == ["details_differ", "other_tenancy"]


def test_a_person_who_moved_out_or_was_rejected_elsewhere_is_not_flagged(db_session, landlord, officer, house,
                                                                         other_house):
    elsewhere, owner = other_house
    moved, refused = factories.occupant(name="李四"), factories.occupant(name="王五")
    before = (reporting.local_today() - timedelta(days=30)).isoformat()
    first = factories.make_move_in(db_session, owner, elsewhere.id, [moved], move_in_date=before)
    factories.decide(db_session, first, officer, "confirmed")
    tenancy = db_session.scalars(select(Tenancy).where(Tenancy.submission_id == first.id)).one()
    out = factories.make_move_out(db_session, owner, tenancy.id)
    factories.decide(db_session, out, officer, "confirmed")
    second = factories.make_move_in(db_session, owner, elsewhere.id, [refused])
    factories.decide(db_session, second, officer, "rejected", reason_code="not_living_here")

    sub = factories.make_move_in(db_session, landlord, house.id, [moved, refused])
    assert "other_tenancy" not in codes(sub)


# --- over_capacity ------------------------------------------------------------------------------------

def test_a_house_over_its_maximum_is_flagged(db_session, landlord, house):
    factories.make_move_in(db_session, landlord, house.id, [factories.occupant() for _ in range(3)])
    at_max = db_session.get(Submission, factories.make_move_in(
        db_session, landlord, house.id, [factories.occupant()]).id)
    assert "over_capacity" not in codes(at_max)  # 4 of 4
    over = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()])
    assert_filed(over)
    assert {"code": "over_capacity", "count": 5, "max": 4} in over.flags


def test_capacity_counts_only_people_still_living_there(db_session, landlord, district):
    small = factories.make_house(db_session, landlord, district.addresses[1], max_occupants=1).house
    station2_officer = factories.make_user(db_session, role="officer", station=district.stations[1])
    first = factories.make_move_in(db_session, landlord, small.id, [factories.occupant()],
                                   move_in_date=(reporting.local_today() - timedelta(days=5)).isoformat())
    factories.decide(db_session, first, station2_officer, "confirmed")
    tenancy = db_session.scalars(select(Tenancy).where(Tenancy.submission_id == first.id)).one()
    out = factories.make_move_out(db_session, landlord, tenancy.id)
    factories.decide(db_session, out, station2_officer, "confirmed")
    sub = factories.make_move_in(db_session, landlord, small.id, [factories.occupant()])
    assert "over_capacity" not in codes(sub)


# --- minor_alone --------------------------------------------------------------------------------------

def _birth(years_ago: int) -> str:
    today = reporting.local_today()
    return f"{today.year - years_ago}0101"


def test_a_child_alone_is_flagged(db_session, landlord, house):
    sub = factories.make_move_in(db_session, landlord, house.id,
                                 [factories.occupant(name="小明", birth=_birth(10), relation="child")])
    assert_filed(sub)
    assert sub.flags == [{"code": "minor_alone", "person": 0}]


def test_two_children_without_an_adult_are_both_flagged(db_session, landlord, house):
    sub = factories.make_move_in(db_session, landlord, house.id,
                                 [factories.occupant(birth=_birth(12)), factories.occupant(birth=_birth(9))])
    assert sorted(f["person"] for f in sub.flags if f["code"] == "minor_alone") == [0, 1]


def test_a_child_moving_in_with_an_adult_is_not_flagged(db_session, landlord, house):
    sub = factories.make_move_in(db_session, landlord, house.id,
                                 [factories.occupant(name="张妈妈", birth=_birth(35)),
                                  factories.occupant(name="小明", birth=_birth(10), relation="child")])
    assert "minor_alone" not in codes(sub)


def test_a_child_joining_an_adult_already_living_there_is_not_flagged(db_session, landlord, house):
    factories.make_move_in(db_session, landlord, house.id, [factories.occupant(birth=_birth(40))])
    sub = factories.make_move_in(db_session, landlord, house.id,
                                 [factories.occupant(birth=_birth(10), relation="child")])
    assert "minor_alone" not in codes(sub)


def test_a_sixteen_year_old_is_not_a_child_to_flag(db_session, landlord, house):
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant(birth=_birth(16))])
    assert "minor_alone" not in codes(sub)


# --- late ---------------------------------------------------------------------------------------------

def expected_due(event_day) -> datetime:
    """The end of the local day DEADLINE days after the event (Asia/Shanghai), in UTC."""
    last_day = event_day + timedelta(days=DEADLINE)
    local_midnight = datetime.combine(last_day + timedelta(days=1), time(0), ZoneInfo("Asia/Shanghai"))
    return local_midnight.astimezone(UTC)


def test_a_move_in_reported_after_the_deadline_is_late(db_session, landlord, house):
    day = reporting.local_today() - timedelta(days=DEADLINE + 1)
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()],
                                 move_in_date=day.isoformat(), deadline_days=DEADLINE)
    assert_filed(sub)
    assert (sub.late, sub.flagged, codes(sub)) == (True, True, ["late"])
    assert sub.due_at == expected_due(day)
    db_session.expire_all()
    assert db_session.get(Submission, sub.id).due_at == expected_due(day)


def test_a_move_in_reported_on_the_last_day_is_not_late(db_session, landlord, house):
    day = reporting.local_today() - timedelta(days=DEADLINE)
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()],
                                 move_in_date=day.isoformat(), deadline_days=DEADLINE)
    assert (sub.late, codes(sub)) == (False, [])
    assert sub.due_at == expected_due(day)


def test_the_deadline_is_a_setting(db_session, landlord, house):
    day = reporting.local_today() - timedelta(days=DEADLINE + 1)
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()],
                                 move_in_date=day.isoformat(), deadline_days=DEADLINE + 7)
    assert sub.late is False


def test_the_page_uses_report_deadline_days(app, landlord_client, db_session, house):
    """Through the pages the deadline comes from REPORT_DEADLINE_DAYS."""
    days = app.config["REPORT_DEADLINE_DAYS"]
    day = reporting.local_today() - timedelta(days=days + 1)
    p = factories.occupant()
    person0 = landlord_client.get(f"/landlord/houses/{house.id}/move-in").headers["Location"]
    another = landlord_client.submit(person0, {"id_type": "resident_id", "id_number": p["id_number"],
                                               "name": "李四", "relation": "main_tenant"}).headers["Location"]
    dates = landlord_client.submit(another, {"another": "no"}).headers["Location"]
    check = landlord_client.submit(dates, {"move_in_date": day.isoformat()}).headers["Location"]
    assert landlord_client.submit(check, {}).status_code == 302
    sub = db_session.scalars(select(Submission).where(Submission.kind == "move_in")).one()
    assert sub.late and codes(sub) == ["late"]
    local_due = datetime.combine(day + timedelta(days=days + 1), time(0), ZoneInfo("Asia/Shanghai"))
    assert sub.due_at == local_due.astimezone(UTC)


def test_a_late_move_out_is_late(db_session, landlord, house):
    long_ago = reporting.local_today() - timedelta(days=30)
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()],
                                 move_in_date=long_ago.isoformat())
    tenancy = db_session.scalars(select(Tenancy).where(Tenancy.submission_id == sub.id)).one()
    out_day = reporting.local_today() - timedelta(days=DEADLINE + 2)
    out = factories.make_move_out(db_session, landlord, tenancy.id, move_out_date=out_day.isoformat(),
                                  deadline_days=DEADLINE)
    assert_filed(out)
    assert (out.late, codes(out), out.due_at) == (True, ["late"], expected_due(out_day))


# --- unknown_region -----------------------------------------------------------------------------------

def test_an_unknown_region_code_is_flagged_not_refused(db_session, landlord, house):
    stranger = factories.occupant(name="李四", region="999999")
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant(), stranger])
    assert_filed(sub)
    assert sub.flags == [{"code": "unknown_region", "person": 1}]


def test_an_unknown_region_goes_through_the_pages(landlord_client, db_session, house):
    stranger = factories.occupant(region="999999")
    person0 = landlord_client.get(f"/landlord/houses/{house.id}/move-in").headers["Location"]
    response = landlord_client.submit(person0, {"id_type": "resident_id", "id_number": stranger["id_number"],
                                                "name": "李四", "relation": "main_tenant"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/another")


# --- several at once, and what the officer sees -------------------------------------------------------

def test_flags_add_up_and_the_officer_sees_each(officer_client, db_session, landlord, district, other_house):
    english(officer_client)
    elsewhere, owner = other_house
    tiny = factories.make_house(db_session, landlord, district.addresses[0], max_occupants=1).house
    adult_elsewhere = factories.occupant(name="王五")
    factories.make_move_in(db_session, owner, elsewhere.id, [adult_elsewhere])
    day = reporting.local_today() - timedelta(days=DEADLINE + 5)
    sub = factories.make_move_in(db_session, landlord, tiny.id,
                                 [factories.occupant(name="小明", birth=_birth(10), region="999999")],
                                 move_in_date=day.isoformat())
    assert codes(sub) == ["late", "minor_alone", "unknown_region"]
    sub2 = factories.make_move_in(db_session, landlord, tiny.id, [adult_elsewhere])
    assert codes(sub2) == ["other_tenancy", "over_capacity"]

    page = parse(officer_client.get(f"/officer/items/{sub.id}"))
    notice = [text_of(li) for li in page.select(".notice-error li")]
    assert notice == [str(flags.LABELS["late"]), f"{flags.LABELS['minor_alone']} (person 1)",
                      f"{flags.LABELS['unknown_region']} (person 1)"]
    page2 = parse(officer_client.get(f"/officer/items/{sub2.id}"))
    assert [text_of(li) for li in page2.select(".notice-error li")] == [
        f"{flags.LABELS['other_tenancy']} (person 1)", str(flags.LABELS["over_capacity"])]
    # The item page also shows that the person lives elsewhere: in another station, only as such (as the
    # register's person page and the "two houses" list say it; test_item_elsewhere.py).
    elsewhere_list = page2.find("h2", string="Other tenancies of these people").find_next("ul")
    assert elsewhere.address.text not in text_of(elsewhere_list)
    assert "A house outside your jurisdiction" in text_of(elsewhere_list)
