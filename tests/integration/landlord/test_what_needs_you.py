"""The landlord's home page lists first what the police asked of them; clear states on every report page."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import Submission, SubmissionStatus, Tenancy
from portal.services import reporting
from tests import factories
from tests.browser import parse
from tests.factories import english, field_error, post_form, text_of

S = SubmissionStatus


@pytest.fixture
def landlord_en(landlord_client):
    return english(landlord_client)


@pytest.fixture
def house(db_session, district, landlord):
    return factories.make_house(db_session, landlord, district.addresses[0], max_occupants=4).house


def needs(page) -> list:
    section = page.select_one("#needs-you")
    return section.select("li.card") if section else []


def test_a_rejection_and_a_site_visit_come_first_with_the_reason_and_the_note(landlord_en, db_session, officer,
                                                                              house):
    rejected = factories.make_move_in(db_session, house.owner, house.id, [factories.occupant(name="李四")])
    visited = factories.make_move_in(db_session, house.owner, house.id,
                                     [factories.occupant(name="王五", birth="19850505")])
    factories.decide(db_session, rejected, officer, S.rejected, reason_code="identity_mismatch",
                     reason_text="身份证号与姓名不符")
    factories.decide(db_session, visited, officer, S.site_visit, reason_text="周三晚上七点上门，请在家")
    page = parse(landlord_en.get("/landlord/"))
    main = page.find("main")
    assert main.select_one("#needs-you") is main.find("section")  # before the houses
    cards = needs(page)
    assert [c["data-needs"] for c in cards] == ["rejected", "site_visit"]
    first = text_of(cards[0])
    assert "The identity details do not match the person" in first and "身份证号与姓名不符" in first
    second = text_of(cards[1])
    assert "周三晚上七点上门，请在家" in second and "Asked on" in second
    # The correct button works: it opens the correction journey of that report.
    response = post_form(landlord_en, page, "/landlord/", f"/submissions/{rejected.id}/correct")
    assert response.status_code == 302 and response.headers["Location"].endswith("/check")
    # The report's page says the site visit in words, with the note; the house too is not "waiting".
    sub_page = parse(landlord_en.get(f"/landlord/submissions/{visited.id}"))
    state = text_of(sub_page.select_one("#state"))
    assert state.startswith("Site visit requested") and "周三晚上七点上门，请在家" in state


def test_a_corrected_or_withdrawn_report_no_longer_needs_them(landlord_en, db_session, officer, house, landlord):
    rejected = factories.make_move_in(db_session, landlord, house.id, [factories.occupant(name="李四")])
    factories.decide(db_session, rejected, officer, S.rejected, reason_code="incomplete")
    assert len(needs(parse(landlord_en.get("/landlord/")))) == 1
    reporting.correct_move_in(db_session, landlord, rejected.id, occupants=[factories.occupant(name="李思")],
                              move_in_date=reporting.local_today().isoformat(), lease_end_date=None,
                              actor=factories.as_actor(landlord), deadline_days=3)
    assert needs(parse(landlord_en.get("/landlord/"))) == []


def test_a_house_in_a_site_visit_is_not_waiting(landlord_en, db_session, officer, district, landlord):
    reg = factories.make_house(db_session, landlord, district.addresses[1])
    factories.decide(db_session, reg, officer, S.site_visit, reason_text="请提供房产证")
    page = parse(landlord_en.get(f"/landlord/houses/{reg.house_id}"))
    assert text_of(page.select_one(".house-state")) == "Site visit requested"
    assert "请提供房产证" in text_of(page.find("main"))


def test_an_overdue_move_out_shows(landlord_en, db_session, house, landlord):
    today = reporting.local_today()
    factories.make_move_in(db_session, landlord, house.id, [factories.occupant(name="赵七")],
                           move_in_date=(today - timedelta(days=60)).isoformat(),
                           lease_end_date=(today - timedelta(days=2)).isoformat())
    cards = needs(parse(landlord_en.get("/landlord/")))
    assert [c["data-needs"] for c in cards] == ["lease_ended"]
    tenancy = db_session.scalars(select(Tenancy)).one()
    assert "赵七" in text_of(cards[0])
    assert cards[0].find("a", href=f"/landlord/tenancies/{tenancy.id}/move-out") is not None


def test_the_deadline_reads_as_the_last_day(landlord_en, db_session, house, landlord):
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()],
                                 move_in_date="2026-11-30")
    assert reporting.due_at(reporting.date(2026, 11, 30), 3).isoformat() == "2026-12-03T16:00:00+00:00"
    page = parse(landlord_en.get(f"/landlord/submissions/{sub.id}"))
    assert text_of(page.select_one("dd.due")).startswith("by the end of December 3, 2026")


def test_withdrawing_asks_first_and_the_receipt_then_leads_with_withdrawn(landlord_en, db_session, house,
                                                                          landlord, client):
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()])
    url = f"/landlord/submissions/{sub.id}"
    page = parse(landlord_en.get(url))
    assert page.find("form", action=f"{url}/withdraw") is None  # no one-click withdrawal
    assert page.find("a", href=f"{url}/withdraw") is not None
    confirm = parse(landlord_en.get(f"{url}/withdraw"))
    assert text_of(confirm.find("h1")) == "Withdraw this report?"
    db_session.expire_all()
    assert db_session.get(Submission, sub.id).status == S.pending  # asking changes nothing
    post_form(landlord_en, confirm, f"{url}/withdraw", "/withdraw")
    db_session.expire_all()
    assert db_session.get(Submission, sub.id).status == S.withdrawn
    public = parse(english(client).get(f"/r/{sub.receipt}"))
    lead = public.find("h1").find_next(["p", "div"])
    assert "withdrawn" in text_of(lead)
    assert "genuine" not in text_of(lead)


def test_an_id_number_with_spaces_is_accepted_in_the_move_in(landlord_en, db_session, house):
    number = factories.resident_id("19920202")
    url = landlord_en.get(f"/landlord/houses/{house.id}/move-in").headers["Location"]
    typed = f"{number[:6]} {number[6:14]}-{number[14:]}"
    response = landlord_en.submit(url, {"id_type": "resident_id", "id_number": typed, "name": "钱八",
                                        "phone": "", "relation": "main_tenant", "occupation": "",
                                        "workplace": ""})
    assert response.status_code == 302, field_error(parse(response), "id_number")
    assert response.headers["Location"].endswith("/another")


def test_a_rejected_report_due_within_a_day_says_the_time_left(landlord_en, db_session, officer, house, landlord):
    # Moved in today with a deadline of 0 days: due at the end of today, so less than 24 hours are left.
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant()], deadline_days=0)
    factories.decide(db_session, sub, officer, S.rejected, reason_code="incomplete")
    card = needs(parse(landlord_en.get("/landlord/")))[0]
    text = text_of(card)
    assert "Correct it by the end of" in text and "hours left" in text
    assert card.select_one(".tag-warn") is not None
