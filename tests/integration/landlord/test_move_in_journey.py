"""Reporting move-ins and move-outs through the real pages, with bad input at each step, corrections,
withdrawals and the officer's reason for a rejection."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal.models import (
    Decision,
    Person,
    RecordStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Tenancy,
)
from portal.services import reporting, review
from tests import factories
from tests.browser import parse
from tests.factories import english, field_error, field_value, post_form, text_of

S = SubmissionStatus


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:300])
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def person_form(p: dict, **changes) -> dict:
    empty = {"id_type": "resident_id", "phone": "", "relation": "main_tenant", "occupation": "",
             "workplace": ""}
    return {**empty, **p, **changes}


@pytest.fixture
def house(db_session, district, landlord):
    return factories.make_house(db_session, landlord, district.addresses[0], max_occupants=4).house


@pytest.fixture
def landlord_en(landlord_client):
    return english(landlord_client)


def start(client, house) -> str:
    url = location(client.get(f"/landlord/houses/{house.id}/move-in"))
    assert url.endswith("/person/0")
    return url


def tenancies_of(session, sub) -> list[Tenancy]:
    return session.scalars(select(Tenancy).where(Tenancy.submission_id == sub.id).order_by(Tenancy.id)).all()


def of_kind(session, kind) -> list[Submission]:
    return session.scalars(select(Submission).where(Submission.kind == kind)).all()


def draft_url(person_url: str, step: str) -> str:
    return person_url.rsplit("/person/", 1)[0] + "/" + step


def test_two_people_move_in(landlord_en, db_session, house, landlord):
    today = reporting.local_today()
    first = factories.occupant(name="李四", birth="19880215", phone="13912345678", occupation="厨师")
    second = factories.occupant(name="王芳", birth="19920704", relation="spouse")
    person0 = start(landlord_en, house)
    another = location(landlord_en.submit(person0, person_form(first)))
    assert another == draft_url(person0, "another")
    person1 = location(landlord_en.submit(another, {"another": "yes"}))
    assert person1.endswith("/person/1")
    another = location(landlord_en.submit(person1, person_form(second, relation="spouse")))
    dates = location(landlord_en.submit(another, {"another": "no"}))
    assert dates == draft_url(person0, "dates")
    lease_end = (today + timedelta(days=365)).isoformat()
    check = location(landlord_en.submit(dates, {"move_in_date": today.isoformat(),
                                                "lease_end_date": lease_end}))
    assert check == draft_url(person0, "check")

    page = parse(landlord_en.get(check))
    cards = [text_of(li) for li in page.select("ol.card-list > li")]
    assert len(cards) == 2
    # The landlord's own check page shows their typing in full (masking is for pages others see).
    assert "李四" in cards[0] and first["id_number"] in cards[0]
    assert "1988-02-15" in cards[0]  # the birth date is read from the number, not typed
    assert "王芳" in cards[1]
    assert db_session.scalar(select(Submission).where(Submission.kind == SubmissionKind.move_in)) is None

    receipt = location(landlord_en.submit(check, {}))
    sub = db_session.scalars(select(Submission).where(Submission.kind == SubmissionKind.move_in)).one()
    assert receipt == f"/landlord/submissions/{sub.id}/receipt"
    assert (sub.status, sub.house_id, sub.reporter_id) == (S.pending, house.id, landlord.id)
    assert sub.payload["move_in_date"] == today.isoformat() and sub.payload["lease_end_date"] == lease_end
    assert [o["name"] for o in sub.payload["occupants"]] == ["李四", "王芳"]
    tenancies = tenancies_of(db_session, sub)
    assert [(t.person.name, t.status, t.move_in_date, t.relation) for t in tenancies] == [
        ("李四", RecordStatus.pending, today, "main_tenant"), ("王芳", RecordStatus.pending, today, "spouse")]
    li = db_session.scalar(select(Person).where(Person.id_number.matches(first["id_number"])))
    assert (li.sex, li.birth_date.isoformat(), li.phone) == ("M" if int(first["id_number"][16]) % 2 else "F",
                                                             "1988-02-15", "13912345678")
    assert tenancies[0].occupation == "厨师"

    house_page = parse(landlord_en.get(f"/landlord/houses/{house.id}"))
    listed = house_page.select("ul.card-list > li")
    assert [text_of(li.find("strong")) for li in listed] == ["李四", "王芳"]
    assert first["id_number"] not in text_of(house_page.find("main"))
    assert [a["href"] for a in house_page.select("a[href$='/move-out']")] == [
        f"/landlord/tenancies/{t.id}/move-out" for t in tenancies]


# --- bad input at each step: the error at the field, the typed values kept -----------------------

def test_a_bad_id_checksum_is_shown_at_the_number(landlord_en, db_session, house):
    good = factories.occupant(name="李四")["id_number"]
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = landlord_en.submit(start(landlord_en, house), person_form(
        {"id_number": bad, "name": "李四", "phone": "13912345678", "occupation": "厨师"}))
    assert response.status_code == 200
    page = parse(response)
    assert field_error(page, "id_number") == "This ID number is not valid: check for a mistyped digit."
    assert field_error(page, "name") == ""
    assert (field_value(page, "id_number"), field_value(page, "name"), field_value(page, "phone"),
            field_value(page, "occupation")) == (bad, "李四", "13912345678", "厨师")
    assert [a["href"] for a in page.select(".error-summary a")] == ["#id_number"]


def test_person_errors_are_shown_at_each_field(landlord_en, db_session, house):
    response = landlord_en.submit(start(landlord_en, house), person_form(
        {"id_number": "12345", "name": "", "phone": "0731-1234"}))
    page = parse(response)
    assert field_error(page, "id_number") == "An ID number has 17 digits followed by a digit or X."
    assert field_error(page, "name") == "Enter the name."
    assert field_error(page, "phone") == \
        "Enter a mainland China mobile number of 11 digits, like 13812345678."
    assert (field_value(page, "id_number"), field_value(page, "phone")) == ("12345", "0731-1234")
    assert [a["href"] for a in page.select(".error-summary a")] == ["#id_number", "#name", "#phone"]


def test_the_same_person_twice_is_shown_at_the_second_number(landlord_en, db_session, house):
    p = factories.occupant(name="李四")
    person0 = start(landlord_en, house)
    another = location(landlord_en.submit(person0, person_form(p)))
    person1 = location(landlord_en.submit(another, {"another": "yes"}))
    full_width = p["id_number"].translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    typed = person_form(p, name="李小四", id_number=full_width)  # the same number, typed differently
    response = landlord_en.submit(person1, typed)
    assert response.status_code == 200
    page = parse(response)
    assert field_error(page, "id_number") == "This person is already in this report as person 1."
    assert (field_value(page, "name"), field_value(page, "id_number")) == ("李小四", typed["id_number"])


def _to_dates(client, house) -> str:
    person0 = start(client, house)
    another = location(client.submit(person0, person_form(factories.occupant(name="李四"))))
    return location(client.submit(another, {"another": "no"}))


def test_a_future_move_in_date_is_refused_and_values_kept(landlord_en, db_session, house):
    today = reporting.local_today()
    tomorrow, later = (today + timedelta(days=1)).isoformat(), (today + timedelta(days=90)).isoformat()
    response = landlord_en.submit(_to_dates(landlord_en, house), {"move_in_date": tomorrow,
                                                                  "lease_end_date": later})
    assert response.status_code == 200
    page = parse(response)
    assert field_error(page, "move_in_date") == "The move-in date cannot be in the future."
    assert field_error(page, "lease_end_date") == ""
    assert (field_value(page, "move_in_date"), field_value(page, "lease_end_date")) == (tomorrow, later)


def test_a_lease_ending_before_the_move_in_is_refused_and_values_kept(landlord_en, db_session, house):
    today = reporting.local_today()
    start_day, end_day = (today - timedelta(days=2)).isoformat(), (today - timedelta(days=3)).isoformat()
    response = landlord_en.submit(_to_dates(landlord_en, house), {"move_in_date": start_day,
                                                                  "lease_end_date": end_day})
    page = parse(response)
    assert field_error(page, "lease_end_date") == "The lease cannot end before the move-in date."
    assert field_error(page, "move_in_date") == ""
    assert (field_value(page, "move_in_date"), field_value(page, "lease_end_date")) == (start_day, end_day)


def test_an_impossible_date_is_refused(landlord_en, db_session, house):
    response = landlord_en.submit(_to_dates(landlord_en, house), {"move_in_date": "2025-02-30"})
    page = parse(response)
    assert field_error(page, "move_in_date") == "Enter a real date, like 2026-03-05."
    assert field_value(page, "move_in_date") == "2025-02-30"


@pytest.fixture
def living(db_session, house, landlord, officer):
    """Two people living in the house for ten days, confirmed by the police."""
    day = reporting.local_today() - timedelta(days=10)
    sub = factories.make_move_in(db_session, landlord, house.id, [factories.occupant(name="李四"),
                                                                  factories.occupant(name="王芳")],
                                 move_in_date=day.isoformat())
    factories.decide(db_session, sub, officer, S.confirmed)
    return tenancies_of(db_session, sub)


def test_report_a_move_out(landlord_en, db_session, house, living):
    house_page = parse(landlord_en.get(f"/landlord/houses/{house.id}"))
    link = house_page.find("a", href=f"/landlord/tenancies/{living[0].id}/move-out")
    assert "李四" in text_of(link)
    day = reporting.local_today().isoformat()
    receipt = location(landlord_en.submit(link["href"], {"move_out_date": day}))
    sub = db_session.scalars(select(Submission).where(Submission.kind == SubmissionKind.move_out)).one()
    assert receipt == f"/landlord/submissions/{sub.id}/receipt"
    assert (sub.status, sub.tenancy_id, sub.payload["move_out_date"]) == (S.pending, living[0].id, day)
    db_session.expire_all()
    assert db_session.get(Tenancy, living[0].id).move_out_date is None  # until the police confirm
    house_page = parse(landlord_en.get(f"/landlord/houses/{house.id}"))
    assert house_page.find("a", href=f"/landlord/tenancies/{living[0].id}/move-out") is None
    assert house_page.find("a", href=f"/landlord/tenancies/{living[1].id}/move-out") is not None
    # A second move-out for the same person is refused at the field.
    response = landlord_en.submit(link["href"], {"move_out_date": day})
    assert response.status_code == 200
    assert field_error(parse(response), "move_out_date") == \
        "You have already reported that this person moved out."
    assert len(of_kind(db_session, SubmissionKind.move_out)) == 1


def test_a_move_out_before_the_move_in_is_refused_and_the_value_kept(landlord_en, db_session, house, living):
    too_early = (living[0].move_in_date - timedelta(days=1)).isoformat()
    url = f"/landlord/tenancies/{living[0].id}/move-out"
    response = landlord_en.submit(url, {"move_out_date": too_early})
    assert response.status_code == 200
    page = parse(response)
    assert field_error(page, "move_out_date") == \
        f"The move-out date cannot be before the move-in date ({living[0].move_in_date.isoformat()})."
    assert field_value(page, "move_out_date") == too_early
    assert db_session.scalar(select(Submission).where(Submission.kind == SubmissionKind.move_out)) is None


def test_a_future_move_out_is_refused(landlord_en, db_session, house, living):
    tomorrow = (reporting.local_today() + timedelta(days=1)).isoformat()
    response = landlord_en.submit(f"/landlord/tenancies/{living[0].id}/move-out", {"move_out_date": tomorrow})
    page = parse(response)
    assert field_error(page, "move_out_date") == "The move-out date cannot be in the future."
    assert field_value(page, "move_out_date") == tomorrow


# --- corrections, withdrawals, rejections ----------------------------------------------------------

@pytest.fixture
def pending_move_in(db_session, house, landlord):
    return factories.make_move_in(db_session, landlord, house.id, [factories.occupant(name="李四"),
                                                                   factories.occupant(name="王芳")])


@pytest.mark.parametrize("rejected_first", [False, True], ids=["pending", "rejected"])
def test_a_correction_supersedes_the_old_report_and_both_stay_readable(landlord_en, db_session, landlord,
                                                                        officer, pending_move_in,
                                                                        rejected_first):
    old = pending_move_in
    if rejected_first:
        factories.decide(db_session, old, officer, S.rejected, reason_code="identity_mismatch")
    page_url = f"/landlord/submissions/{old.id}"
    check = location(post_form(landlord_en, parse(landlord_en.get(page_url)), page_url, "/correct"))
    assert check.endswith("/check")
    assert db_session.get(Submission, old.id).status == (S.rejected if rejected_first else S.pending)

    person0 = check.rsplit("/", 1)[0] + "/person/0?change=1"
    form = parse(landlord_en.get(person0))
    assert field_value(form, "name") == "李四"  # the correction starts from what was declared
    fixed = {n: field_value(form, n) or "" for n in ("id_type", "id_number", "relation")}
    assert location(landlord_en.submit(person0, person_form(fixed, name="李思"))) == check
    receipt = location(landlord_en.submit(check, {}))

    db_session.expire_all()
    new = db_session.scalars(select(Submission).where(Submission.supersedes_id == old.id)).one()
    assert receipt == f"/landlord/submissions/{new.id}/receipt"
    assert (db_session.get(Submission, old.id).status, new.status) == (S.superseded, S.pending)
    assert [o["name"] for o in new.payload["occupants"]] == ["李思", "王芳"]
    assert [o["name"] for o in db_session.get(Submission, old.id).payload["occupants"]] == ["李四", "王芳"]
    old_tenancies = db_session.scalars(select(Tenancy).where(Tenancy.submission_id == old.id)).all()
    assert {t.status for t in old_tenancies} == {RecordStatus.superseded}
    new_tenancies = db_session.scalars(select(Tenancy).where(Tenancy.submission_id == new.id)).all()
    assert {t.status for t in new_tenancies} == {RecordStatus.pending} and len(new_tenancies) == 2
    decision = db_session.scalars(select(Decision).where(Decision.submission_id == old.id,
                                                         Decision.to_status == "superseded")).one()
    assert decision.actor_id == landlord.id

    old_page = parse(landlord_en.get(f"/landlord/submissions/{old.id}"))
    new_page = parse(landlord_en.get(f"/landlord/submissions/{new.id}"))
    assert "李四" in text_of(old_page.find("main")) and "李思" in text_of(new_page.find("main"))
    assert text_of(old_page.select_one("dd.status")) == "Replaced by a correction"
    assert f"/landlord/submissions/{new.id}" in [a["href"] for a in old_page.select("main a")]
    assert f"/landlord/submissions/{old.id}" in [a["href"] for a in new_page.select("main a")]
    # The superseded report can be neither corrected nor withdrawn again.
    assert old_page.find("form", action=f"/landlord/submissions/{old.id}/correct") is None
    assert old_page.find("form", action=f"/landlord/submissions/{old.id}/withdraw") is None
    # The house lists the people once, as corrected.
    house_page = parse(landlord_en.get(f"/landlord/houses/{new.house_id}"))
    assert [text_of(li.find("strong")) for li in house_page.select("ul.card-list > li")] == ["李思", "王芳"]


def test_a_bad_correction_changes_nothing(landlord_en, db_session, pending_move_in):
    old = pending_move_in
    page_url = f"/landlord/submissions/{old.id}"
    check = location(post_form(landlord_en, parse(landlord_en.get(page_url)), page_url, "/correct"))
    dates = check.rsplit("/", 1)[0] + "/dates"
    tomorrow = (reporting.local_today() + timedelta(days=1)).isoformat()
    response = landlord_en.submit(dates, {"move_in_date": tomorrow})
    assert field_error(parse(response), "move_in_date") == "The move-in date cannot be in the future."
    db_session.expire_all()
    assert db_session.get(Submission, old.id).status == S.pending
    assert len(of_kind(db_session, SubmissionKind.move_in)) == 1


def test_withdraw_a_pending_report(landlord_en, db_session, landlord, pending_move_in):
    page_url = f"/landlord/submissions/{pending_move_in.id}"
    confirm = parse(landlord_en.get(f"{page_url}/withdraw"))  # the link on the report's page: are you sure?
    response = post_form(landlord_en, confirm, f"{page_url}/withdraw", "/withdraw")
    assert location(response) == page_url
    db_session.expire_all()
    sub = db_session.get(Submission, pending_move_in.id)
    assert (sub.status, sub.is_open) == (S.withdrawn, False)
    assert {t.status for t in db_session.scalars(select(Tenancy).where(Tenancy.submission_id == sub.id))} == \
        {RecordStatus.withdrawn}
    page = parse(landlord_en.get(page_url))
    assert text_of(page.select_one("dd.status")) == "Withdrawn"
    assert page.find("form", action=f"{page_url}/withdraw") is None
    assert parse(landlord_en.get(f"/landlord/houses/{sub.house_id}")).select("ul.card-list > li") == []


def test_a_decided_report_cannot_be_withdrawn(landlord_en, db_session, officer, pending_move_in):
    page_url = f"/landlord/submissions/{pending_move_in.id}"
    page = parse(landlord_en.get(f"{page_url}/withdraw"))
    factories.decide(db_session, pending_move_in, officer, S.confirmed)  # while the page was open
    response = post_form(landlord_en, page, f"{page_url}/withdraw", "/withdraw", follow_redirects=True)
    notice = text_of(parse(response).select_one(".notice-error"))
    assert notice == "This report can no longer be withdrawn: the police have decided on it."
    db_session.expire_all()
    assert db_session.get(Submission, pending_move_in.id).status == S.confirmed


def test_a_rejected_report_shows_the_officers_reason(landlord_en, db_session, officer, pending_move_in):
    factories.decide(db_session, pending_move_in, officer, S.rejected, reason_code="not_living_here",
                     reason_text="门上无人应答，邻居说没有此人")
    page = parse(landlord_en.get(f"/landlord/submissions/{pending_move_in.id}"))
    notice = text_of(page.select_one(".notice-error"))
    assert notice.startswith("Rejected The police rejected this report.")
    assert "The person does not live at this address The officer wrote: 门上无人应答，邻居说没有此人" in notice
    assert text_of(page.select_one("dd.status")) == "Rejected"
    assert page.find("form", action=f"/landlord/submissions/{pending_move_in.id}/correct") is not None
    assert page.find("form", action=f"/landlord/submissions/{pending_move_in.id}/withdraw") is None
    history = [text_of(li) for li in page.find("h2", string="History").find_next("ul").find_all("li")]
    assert len(history) == 1 and history[0].endswith("Rejected · The person does not live at this address · "
                                                     "门上无人应答，邻居说没有此人")
    assert officer.name not in text_of(page.find("main"))
    assert review.status_label("rejected") == "Rejected"
