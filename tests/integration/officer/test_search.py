"""The officers' search (services/register_search.py): by exact ID number, name, phone, address text or
receipt, only within the officer's jurisdiction, masked; the full record audited with a reason and limited."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent
from portal.services import receipts, register_search
from portal.services.errors import ValidationFailed
from tests import factories
from tests.browser import parse
from tests.factories import text_of
from tests.integration.officer.conftest import signed_in


@pytest.fixture
def people(db_session, district, landlord, officer):
    """王小明 lives in station 1 (confirmed, so the register has his phone); 王小明 of the same name and
    欧阳 in station 2."""
    mine = factories.make_house(db_session, landlord, district.addresses[0]).house_id
    far = factories.make_house(db_session, landlord, district.addresses[1]).house_id
    wang = factories.occupant(name="王小明", phone="13812340001")
    move_in = factories.make_move_in(db_session, landlord, mine, [wang])
    factories.decide(db_session, move_in, officer, "confirmed")
    namesake = factories.occupant(name="王小明", phone="13812340002")
    far_in = factories.make_move_in(db_session, landlord, far, [namesake, factories.occupant(name="欧阳修")])
    return {"wang": wang, "namesake": namesake, "move_in": move_in, "far_in": far_in}


def hits(session, officer, q):
    return register_search.search(session, officer, q)


def test_by_exact_id_number_within_the_jurisdiction(db_session, officer, officer2, people):
    number = people["wang"]["id_number"]
    found = hits(db_session, officer, number)
    assert found.kind == "id_number"
    assert [(p.name, p.id_masked, p.phone_masked) for p in found.people] == [
        ("王**", number[:6] + "********" + number[-4:], "138****0001")]
    assert "银海花园" in found.people[0].lives_at
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"  # typed in groups
    assert [p.person_id for p in hits(db_session, officer, spaced).people] == [found.people[0].person_id]
    assert hits(db_session, officer2, number).people == []  # station 2 never finds station 1's person
    assert hits(db_session, officer, number[:-1]).people == []  # exact, not a prefix


def test_by_name_phone_and_receipt(db_session, officer, officer2, people):
    assert len(hits(db_session, officer, "王小明").people) == 1
    assert len(hits(db_session, officer2, "王小明").people) == 1
    mine, theirs = (hits(db_session, o, "王小明").people[0].person_id for o in (officer, officer2))
    assert mine != theirs
    assert hits(db_session, officer, "王小").people == []  # a name is matched whole
    by_phone = hits(db_session, officer, "138 1234 0001")
    assert by_phone.kind == "phone" and [p.phone_masked for p in by_phone.people] == ["138****0001"]
    assert hits(db_session, officer2, "13812340001").people == []
    receipt = people["move_in"].receipt
    found = hits(db_session, officer, receipts.display(receipt).lower())
    assert found.kind == "receipt" and [r.submission_id for r in found.reports] == [people["move_in"].id]
    assert hits(db_session, officer, people["far_in"].receipt).reports == []
    by_address = hits(db_session, officer, "银海花园")
    assert by_address.addresses and all(a.road != "人民路" for a in by_address.addresses)
    assert hits(db_session, officer, "人民路").addresses == []  # station 2's road


def test_too_short_and_too_long(app, db_session, officer):
    for raw in ("", " 王 ", "1"):
        with pytest.raises(ValidationFailed) as failure:
            hits(db_session, officer, raw)
        assert failure.value.errors[0].field == "q" and failure.value.errors[0].code == "too_short"
    with pytest.raises(ValidationFailed):
        hits(db_session, officer, "王" * 101)
    c = signed_in(app, officer)
    response = c.get("/officer/search?q=王")
    assert response.status_code == 400
    page = parse(response)
    assert "Enter at least 2 characters to search." in text_of(page.select_one(".error-summary"))
    assert page.find("input", attrs={"name": "q"})["value"] == "王"
    assert c.get("/officer/search").status_code == 200  # no query yet: no message
    c.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    zh = parse(c.get("/officer/search?q=王"))
    assert "请至少输入 2 个字符再搜索。" in text_of(zh.select_one(".error-summary"))


def test_search_page_results_are_masked(app, db_session, officer, people):
    c = signed_in(app, officer)
    page = parse(c.get("/officer/search", query_string={"q": people["wang"]["id_number"]}))
    card = page.select_one("#people-found li")
    assert "王小明" not in text_of(page.select_one("main")) and people["wang"]["id_number"] not in text_of(card)
    person = parse(c.get(card.find("a")["href"]))
    assert text_of(person.find("h1")) == "王小明"


def audit_rows(session, officer, action):
    return session.execute(select(AuditEvent.outcome, AuditEvent.object_id, AuditEvent.detail).where(
        AuditEvent.action == action, AuditEvent.actor_id == officer.id).order_by(AuditEvent.id)).all()


def test_full_record_is_audited_with_a_reason_and_limited(app, db_session, officer, officer2, people):
    pid = hits(db_session, officer, people["wang"]["id_number"]).people[0].person_id
    url = f"/officer/register/people/{pid}"
    c = signed_in(app, officer)
    page = parse(c.get(url))
    assert audit_rows(db_session, officer, "person.view") == [("success", str(pid), None)]
    assert people["wang"]["id_number"] not in text_of(page.select_one("#person-id"))
    # No reason: the form again with the message, nothing shown, nothing recorded as seen.
    response = factories.post_form(c, page, url, "/full")
    assert response.status_code == 400
    assert "Choose why you need the full record." in text_of(parse(response).select_one(".error-summary"))
    assert audit_rows(db_session, officer, "person.reveal") == []
    # A reason not on the list is refused the same way.
    assert factories.post_form(c, page, url, "/full", data={"reason": "curious"}).status_code == 400
    app.config["REVEALS_PER_HOUR"] = 2
    try:
        statuses = []
        for _ in range(3):
            response = factories.post_form(c, parse(c.get(url)), url, "/full", data={"reason": "case"})
            statuses.append(response.status_code)
            shown = parse(response)
        assert statuses == [200, 200, 429]
        assert people["wang"]["id_number"] not in text_of(shown.select_one("#person-id"))  # the refused one
    finally:
        app.config["REVEALS_PER_HOUR"] = 30
    first = parse(factories.post_form(c, parse(c.get(url)), url, "/full", data={"reason": "site_visit"}))
    assert text_of(first.select_one("#person-id")) == people["wang"]["id_number"]
    assert text_of(first.select_one("#person-phone")) == "13812340001"
    rows = audit_rows(db_session, officer, "person.reveal")
    assert [r.outcome for r in rows] == ["success", "success", "refused", "success"]
    assert rows[0].object_id == str(pid) and rows[0].detail == "reason=case seen=id_number,phone,birth_date"
    assert rows[3].detail.startswith("reason=site_visit")
    # Another station's officer: no such person for them, nothing recorded.
    other = signed_in(app, officer2)
    assert other.get(url).status_code == 404
    token = factories.csrf_token(other)
    assert other.post(f"{url}/full", data={"csrf_token": token, "reason": "case"}).status_code == 404
    assert audit_rows(db_session, officer2, "person.reveal") == []


def test_reveals_of_items_and_records_share_one_allowance(app, db_session, officer, people):
    from portal.services import audit

    for _ in range(2):
        audit.record(db_session, "id.reveal", audit.Actor(user=officer), object_type="submission", object_id=1)
    db_session.commit()
    assert register_search.reveals_in_last_hour(db_session, officer) == 2
    pid = hits(db_session, officer, people["wang"]["id_number"]).people[0].person_id
    with pytest.raises(register_search.TooManyReveals):
        register_search.full_record(db_session, officer, pid, "case", audit.Actor(user=officer), per_hour=2)
