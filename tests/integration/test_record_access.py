"""The person's own view of who read their record (services/record_access.py, /my-record): a code to the
phone on record, the same answer for a number the register does not hold, limits per document and per
address (twenty at once too), the entries with date, station and reason but never the officer, and the
investigations' holds that an officer asks for and an auditor approves (four eyes) and alone extends."""
from __future__ import annotations

import hashlib
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.db import writing
from portal.extensions import db
from portal.models import AccessChallenge, AuditEvent, OutboxMessage, RecordAccess
from portal.models.base import utcnow
from portal.services import audit, exports, queue, record_access, register_search
from tests import factories
from tests.browser import FormClient, parse
from tests.factories import english, text_of
from tests.integration.officer.conftest import signed_in

CODE_PURPOSE = record_access.PURPOSE
WANGS_PHONE = "13812340001"


@pytest.fixture
def wang(db_session, district, landlord, officer):
    """王小明, confirmed at a house of station 1, so the register has his phone; his register id."""
    house = factories.make_house(db_session, landlord, district.addresses[0]).house_id
    person = factories.occupant(name="王小明", phone="13812340001")
    move_in = factories.make_move_in(db_session, landlord, house, [person])
    factories.decide(db_session, move_in, officer, "confirmed")
    pid = register_search.search(db_session, officer, person["id_number"]).people[0].person_id
    return {"id_number": person["id_number"], "person_id": pid, "move_in": move_in}


def visitor(app) -> FormClient:
    return english(FormClient(app.test_client()))


def ask(c: FormClient, id_number: str, id_type: str = "resident_id", phone: str = WANGS_PHONE):
    return c.submit("/my-record", {"id_type": id_type, "id_number": id_number, "phone": phone})


def last_code(session) -> tuple[str, str]:
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == CODE_PURPOSE)
                              .order_by(OutboxMessage.id.desc())).first()
    return message.phone, re.search(r"\b(\d{6})\b", message.text).group(1)


def outbox_count(session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage))


def reveal(c: FormClient, person_id: int, *, investigation: bool = False):
    url = f"/officer/register/people/{person_id}"
    data = {"reason": "case", **({"investigation": "y"} if investigation else {})}
    response = factories.post_form(c, parse(c.get(url)), url, "/full", data=data)
    assert response.status_code == 200
    return response


def test_a_person_sees_who_read_their_record_but_never_the_officer(app, db_session, district, officer, wang):
    reveal(signed_in(app, officer), wang["person_id"])
    c = visitor(app)
    page = parse(c.get("/my-record"))
    assert page.select_one("#access-request-form") is not None
    response = ask(c, wang["id_number"])
    assert response.status_code == 302 and response.headers["Location"].endswith("/my-record/code")
    phone, code = last_code(db_session)
    assert phone == "13812340001"  # the phone on the record, never one typed on the page
    wrong = c.submit("/my-record/code", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400
    assert "This code is wrong, or it has expired." in text_of(parse(wrong).select_one(".error-summary"))
    right = c.submit("/my-record/code", {"code": code})
    assert right.status_code == 302 and right.headers["Location"].endswith("/my-record/list")
    listing = c.get("/my-record/list")
    assert listing.headers["Cache-Control"] == "no-store"
    rows = parse(listing).select("#access-entries .access-entry")
    assert len(rows) == 1
    cells = [text_of(td) for td in rows[0].find_all("td")]
    assert cells[1] == "Your full record was shown to an officer"
    assert cells[2] == district.stations[0].name and cells[3] == "A case or an incident"
    body = listing.get_data(as_text=True)
    assert officer.name not in body and officer.phone not in body and str(officer.id) not in cells
    # Every step audited; the audit rows name the challenge and the person, never the number or the phone.
    actions = db_session.execute(select(AuditEvent.action, AuditEvent.outcome, AuditEvent.detail).where(
        AuditEvent.action.like("access.%")).order_by(AuditEvent.id)).all()
    assert [(a, o) for a, o, _d in actions] == [("access.code", "success"), ("access.check", "failure"),
                                                ("access.check", "success"), ("access.view", "success")]
    assert all(wang["id_number"] not in (d or "") and "13812340001" not in (d or "") for _a, _o, d in actions)
    # The code is used: the same code again opens nothing.
    with c.session_transaction() as s:
        used = s["access_view"]
    c2 = visitor(app)
    with c2.session_transaction() as s:
        s["access_challenge"] = used
    assert c2.submit("/my-record/code", {"code": code}).status_code == 400
    # Done ends the view.
    assert factories.post_form(c, parse(listing), "/my-record/list", "/my-record/end").status_code == 302
    assert c.get("/my-record/list").headers["Location"].endswith("/my-record")


def test_the_cookie_holds_a_random_token_never_the_challenges_id(app, db_session, wang):
    """The session cookie is signed, not encrypted: a sequential id in it told how many people asked, and named
    the next person's challenge. It holds a random token, which the row keeps only as a hash."""
    c = visitor(app)
    ask(c, wang["id_number"])
    with c.session_transaction() as s:
        token = s["access_challenge"]
    challenge = db_session.scalars(select(AccessChallenge).order_by(AccessChallenge.id.desc())).first()
    assert isinstance(token, str) and len(token) >= 43 and not token.isdigit()
    assert challenge.token_hash == hashlib.sha256(token.encode()).digest()
    row = db_session.execute(select(AccessChallenge.__table__).where(AccessChallenge.id == challenge.id)).one()
    assert all(token not in repr(value) for value in row)  # never kept as it is
    _phone, code = last_code(db_session)
    for named in (challenge.id, str(challenge.id)):  # the id, however it is given, opens nothing
        guesser = visitor(app)
        with guesser.session_transaction() as s:
            s["access_challenge"] = named
        assert guesser.submit("/my-record/code", {"code": code}).status_code == 400
        with guesser.session_transaction() as s:
            s["access_view"] = named
        assert guesser.get("/my-record/list").status_code == 302
    assert c.submit("/my-record/code", {"code": code}).status_code == 302
    with c.session_transaction() as s:
        assert s["access_view"] == token and "access_challenge" not in s
    assert c.get("/my-record/list").status_code == 200


def test_an_unknown_number_gets_the_same_answer_and_no_code_opens_it(app, db_session, wang):
    before = outbox_count(db_session)
    c = visitor(app)
    unknown = factories.occupant(name="李四", birth="19850505")["id_number"]
    response = ask(c, unknown)
    assert response.status_code == 302 and response.headers["Location"].endswith("/my-record/code")
    assert outbox_count(db_session) == before  # nothing sent to anyone
    known = visitor(app)
    ask(known, wang["id_number"])
    first, second = (parse(x.get("/my-record/code")) for x in (c, known))
    assert text_of(first.select_one("main")) == text_of(second.select_one("main"))  # the same page
    for guess in ("000000", "123456", "999999"):
        assert c.submit("/my-record/code", {"code": guess}).status_code == 400
    assert c.get("/my-record/list").status_code == 302  # never a list for a number nobody holds


def test_a_phone_only_a_reporter_declared_gets_no_code(app, db_session, district, landlord):
    """Until an officer confirms a report naming the person, the phone on record is the reporter's word alone: a
    landlord must not get his tenant's code by declaring his own phone. Same answer, nothing sent."""
    house = factories.make_house(db_session, landlord, district.addresses[0]).house_id
    tenant = factories.occupant(name="赵未核", phone=landlord.phone, birth="19920202")
    factories.make_move_in(db_session, landlord, house, [tenant])  # waiting for the police
    before = outbox_count(db_session)
    response = ask(visitor(app), tenant["id_number"])
    assert response.status_code == 302 and response.headers["Location"].endswith("/my-record/code")
    assert outbox_count(db_session) == before
    assert db_session.scalar(select(AccessChallenge.person_id).order_by(AccessChallenge.id.desc())) is None


def test_bad_input_is_refused_at_the_field_in_chinese(app, db_session):
    c = FormClient(app.test_client())
    c.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    for number, code in (("43030219900101123", "format"), ("", "required")):
        response = ask(c, number)
        assert response.status_code == 400, code
        error = text_of(parse(response).select_one("#id_number-error"))
        assert re.search(r"[\u4e00-\u9fff]", error), error
    assert ask(c, "430302199001011234", id_type="spaceship").status_code == 400
    for not_text in ("E12\x0034", "E1234\ufffd"):  # a NUL; a lone surrogate, as a browser's bad UTF-8 arrives
        assert ask(c, not_text, id_type="passport").status_code == 400
    english(c)
    passport = ask(c, "no", id_type="passport")
    assert "This does not look like a number of this type of document." in passport.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(AccessChallenge)) == 0


def from_address(app, n: int) -> FormClient:
    c = visitor(app)
    c.client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
    return c


def test_codes_are_limited_per_document_and_per_address(app, db_session, wang):
    c = visitor(app)
    before = outbox_count(db_session)
    # Per document: three codes an hour; the fourth asker is answered the same, and nothing is sent.
    for n in range(4):
        response = ask(from_address(app, n + 1), wang["id_number"])
        assert response.status_code == 302 and response.headers["Location"].endswith("/my-record/code")
    assert outbox_count(db_session) == before + 3
    refused = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "access.code",
                                                          AuditEvent.outcome == "refused")).all()
    assert [(r.detail, r.object_type) for r in refused] == [("limit", "access_challenge")]
    # Per address: every request counts, whatever became of it; past the limit the page says so.
    app.config["ACCESS_CODES_PER_SOURCE_HOUR"] = 3
    try:
        numbers = [factories.occupant(birth=f"1960010{d}")["id_number"] for d in range(1, 4)]
        assert [ask(c, n).status_code for n in numbers] == [302, 302, 302]
        refused = ask(c, wang["id_number"])
        assert refused.status_code == 429
        assert "Too many codes were asked from this network" in text_of(parse(refused).select_one(".error-summary"))
    finally:
        app.config["ACCESS_CODES_PER_SOURCE_HOUR"] = 10
    assert outbox_count(db_session) == before + 3


def test_a_code_goes_only_to_the_phone_given_and_on_record(app, db_session, monkeypatch, wang):
    """Anyone may know a person's ID number: it must not be enough to text them. A wrong phone gets the same
    answer, the same page and a challenge that no code passes; the phone is compared as typed on the way in."""
    before = outbox_count(db_session)
    stranger = visitor(app)
    response = ask(stranger, wang["id_number"], phone="13900001111")
    assert response.status_code == 302 and response.headers["Location"].endswith("/my-record/code")
    assert outbox_count(db_session) == before
    assert db_session.scalar(select(AccessChallenge.person_id).order_by(AccessChallenge.id.desc())) is None
    person = visitor(app)
    ask(person, wang["id_number"])
    assert text_of(parse(stranger.get("/my-record/code")).select_one("main")) == text_of(
        parse(person.get("/my-record/code")).select_one("main"))
    for guess in ("000000", last_code(db_session)[1]):  # not even the code sent to the person opens it
        assert stranger.submit("/my-record/code", {"code": guess}).status_code == 400
    monkeypatch.setitem(app.config, "ACCESS_CODES_PER_DOCUMENT_HOUR", 10)
    for typed in ("+86 138 1234 0001", "138-1234-0001", "１３８１２３４０００１"):
        assert ask(from_address(app, 9), wang["id_number"], phone=typed).status_code == 302
    assert outbox_count(db_session) == before + 4  # the person's first, and each way of typing the phone
    assert {m.phone for m in db_session.scalars(select(OutboxMessage))} == {WANGS_PHONE}


def test_strangers_without_the_phone_cannot_use_up_the_persons_codes(app, db_session, wang):
    """The day's six codes counted every request for the document: a stranger with the ID number alone locked
    the person out for a day (and had them texted six times). Only codes sent count now."""
    for n in range(10):
        assert ask(from_address(app, n + 1), wang["id_number"], phone=f"1390000{n:04d}").status_code == 302
    before = outbox_count(db_session)
    response = ask(visitor(app), wang["id_number"])
    assert response.status_code == 302
    assert outbox_count(db_session) == before + 1
    assert last_code(db_session)[0] == WANGS_PHONE


def test_the_phone_is_required_and_checked_at_its_field(app, db_session, wang):
    c = FormClient(app.test_client())
    c.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    for phone in ("", "12345", "1381234000x", "138123400011"):
        response = ask(c, wang["id_number"], phone=phone)
        assert response.status_code == 400, phone
        error = text_of(parse(response).select_one("#phone-error"))
        assert re.search(r"[\u4e00-\u9fff]", error), error
    both = ask(c, "43030219900101123", phone="1")  # both fields at once
    assert parse(both).select_one("#id_number-error") and parse(both).select_one("#phone-error")
    assert db_session.scalar(select(func.count()).select_from(AccessChallenge)) == 0


def test_a_code_has_five_tries_and_ten_minutes(app, db_session, wang):
    c = visitor(app)
    ask(c, wang["id_number"])
    _phone, code = last_code(db_session)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(record_access.CODE_ATTEMPTS):
        assert c.submit("/my-record/code", {"code": wrong}).status_code == 400
    assert c.submit("/my-record/code", {"code": code}).status_code == 400  # the right one, too late
    late = visitor(app)
    ask(late, wang["id_number"])
    _phone, code = last_code(db_session)
    db_session.execute(AccessChallenge.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    db_session.commit()  # (a request ends with a rollback of what is not)
    assert late.submit("/my-record/code", {"code": code}).status_code == 400
    fresh = visitor(app)
    ask(fresh, wang["id_number"])
    _phone, code = last_code(db_session)
    assert fresh.submit("/my-record/code", {"code": "".join(chr(ord(d) + 0xFEE0) for d in code)}
                        ).status_code == 302  # typed in full-width digits


def test_the_view_lasts_a_short_while(app, db_session, wang):
    c = visitor(app)
    ask(c, wang["id_number"])
    _phone, code = last_code(db_session)
    c.submit("/my-record/code", {"code": code})
    assert c.get("/my-record/list").status_code == 200
    # The view's end is in the challenge's row (the cookie only names it): past it, nothing is shown.
    db_session.execute(AccessChallenge.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    db_session.commit()
    assert c.get("/my-record/list").headers["Location"].endswith("/my-record")


def test_done_ends_the_view_for_every_copy_of_the_cookie(app, db_session, wang):
    c = visitor(app)
    ask(c, wang["id_number"])
    _phone, code = last_code(db_session)
    c.submit("/my-record/code", {"code": code})
    page = c.get("/my-record/list")
    assert page.status_code == 200
    with c.session_transaction() as s:
        copied = dict(s)  # what a shoulder-surfer or a shared computer's history keeps
    response = factories.post_form(c, parse(page), "/my-record/list", "/my-record/end")
    assert response.headers["Location"].endswith("/")
    replay = visitor(app)
    with replay.session_transaction() as s:
        s.update(copied)
    assert replay.get("/my-record/list").headers["Location"].endswith("/my-record")
    # A cookie naming a challenge whose code was never typed shows nothing either.
    ask(replay, wang["id_number"])
    with replay.session_transaction() as s:
        s["access_view"] = s["access_challenge"]
    assert replay.get("/my-record/list").headers["Location"].endswith("/my-record")


def test_a_document_gets_at_most_a_days_codes(app, db_session, wang):
    with app.app_context():  # the message sender is the app's
        _days_codes(db_session, wang)


def _days_codes(db_session, wang):
    limits = record_access.Limits(per_document_hour=3, per_document_day=6, per_source_hour=100)
    start = utcnow()
    sent = []

    def ask_at(when, phone=WANGS_PHONE):
        return record_access.request_code(db_session, "resident_id", wang["id_number"], phone, ip="198.51.100.7",
                                          limits=limits, message_text=str, now=when)

    for hour in range(4):  # three an hour would be twelve in four hours; the day stops it at six
        for _ in range(3):
            ask_at(start + timedelta(hours=hour), phone="13900001111")  # a stranger's: counts for nothing
            if ask_at(start + timedelta(hours=hour)).message is not None:
                sent.append(hour)
    assert sent == [0, 0, 0, 1, 1, 1]
    # A day after the first, the count starts again.
    assert ask_at(start + timedelta(days=1, minutes=1)).message is not None


def approve(app, db_session, event_id: int, auditor=None):
    a = english(signed_in(app, auditor or factories.make_user(db_session, role="auditor")))
    page = parse(a.get("/admin/holds"))
    row = page.select_one(f"#hold-requests .hold-request[data-event='{event_id}']")
    assert row is not None
    return a, factories.post_form(a, page, "/admin/holds", f"/admin/holds/{event_id}/approve")


def test_an_officers_mark_holds_nothing_until_an_auditor_approves(app, db_session, district, officer, wang):
    """Four eyes: the officer who read the record cannot hide that from the person alone. The mark is a request
    (audited); the entry stays shown until an auditor approves (audited), then hidden for ACCESS_HOLD_DAYS."""
    police = signed_in(app, officer)
    reveal(police, wang["person_id"], investigation=True)
    reveal(police, wang["person_id"])
    asked = db_session.scalars(select(RecordAccess).where(RecordAccess.hold_requested_at.is_not(None))).one()
    assert asked.hold_until is None
    [request] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "access.hold_request")).all()
    assert request.object_id == str(asked.audit_event_id) and request.actor_id == officer.id
    assert len(record_access.entries(db_session, wang["person_id"])) == 2  # both shown: nobody approved yet
    # An officer (the one who asked, or another) cannot approve; an auditor can.
    for c in (police, signed_in(app, factories.make_user(db_session, role="officer", station=district.stations[0]))):
        assert c.post(f"/admin/holds/{asked.audit_event_id}/approve",
                      data={"csrf_token": factories.csrf_token(c)}).status_code in (403, 404)
    db_session.refresh(asked)
    assert asked.hold_until is None
    auditor = factories.make_user(db_session, role="auditor")
    a, response = approve(app, db_session, asked.audit_event_id, auditor)
    assert response.status_code == 302
    db_session.refresh(asked)
    assert asked.hold_until is not None
    assert abs(asked.hold_until - (utcnow() + timedelta(days=180))) < timedelta(minutes=5)
    [approval] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "access.hold")).all()
    assert (approval.actor_id, approval.object_id) == (auditor.id, str(asked.audit_event_id))
    shown = record_access.entries(db_session, wang["person_id"])
    assert len(shown) == 1 and shown[0].reason == "case"
    page = parse(a.get("/admin/holds"))
    assert page.select("#hold-requests .hold-request") == []
    assert [r["data-event"] for r in page.select("#holds .hold")] == [str(asked.audit_event_id)]
    # Approved once: a second post (a double click, the back button) changes nothing, and says so.
    until = asked.hold_until
    again = a.client.post(f"/admin/holds/{asked.audit_event_id}/approve", data={"csrf_token": factories.csrf_token(a)})
    assert again.status_code == 302
    assert "decided already" in text_of(parse(a.get("/admin/holds")).select_one("main"))
    db_session.refresh(asked)
    assert asked.hold_until == until
    assert len(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "access.hold")).all()) == 1


def test_a_full_export_marked_by_its_officer_is_a_request_too(app, db_session, district, landlord, officer, wang):
    room = factories.make_address(db_session, district.beats[0], building="13栋", unit="4单元", room="403")
    other = factories.make_house(db_session, landlord, room).house_id
    factories.make_move_in(db_session, landlord, other, [factories.occupant(name="王小明",
                                                                              id_number=wang["id_number"])])
    c = english(signed_in(app, officer))
    page = parse(c.get("/officer/export?list=queue"))
    response = factories.post_form(c, page, "/officer/export", "/officer/export", data={
        "format": "csv", "full": "y", "reason": "case", "investigation": "y"})
    assert response.status_code == 200
    rows = db_session.scalars(select(RecordAccess).where(RecordAccess.kind == "export")).all()
    assert rows and all(r.hold_requested_at is not None and r.hold_until is None for r in rows)
    assert [e.kind for e in record_access.entries(db_session, wang["person_id"])] == ["export"]
    assert "An auditor is asked" in text_of(parse(c.get("/officer/")).select_one("main"))


def test_an_auditor_may_refuse_and_never_decides_on_their_own_act(app, db_session, officer, wang):
    reveal(signed_in(app, officer), wang["person_id"], investigation=True)
    event_id = db_session.scalar(select(RecordAccess.audit_event_id))
    # The officer's account later made an auditor's: still not their own approver.
    officer.role = type(officer.role)("auditor")
    db_session.commit()
    with pytest.raises(record_access.OwnAct):
        record_access.approve_hold(db_session, officer, event_id, days=180, actor=audit.Actor(user=officer))
    refused = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "access.hold",
                                                          AuditEvent.outcome == "refused")).one()
    assert refused.actor_id == officer.id
    auditor = factories.make_user(db_session, role="auditor")
    a = english(signed_in(app, auditor))
    page = parse(a.get("/admin/holds"))
    assert factories.post_form(a, page, "/admin/holds", f"/admin/holds/{event_id}/refuse").status_code == 302
    row = db_session.scalars(select(RecordAccess)).one()
    db_session.refresh(row)
    assert row.hold_requested_at is None and row.hold_until is None
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "access.hold_refuse")).one().actor_id \
        == auditor.id
    assert len(record_access.entries(db_session, wang["person_id"])) == 1
    # Decided: approving it now finds nothing to approve, and says so.
    response = factories.post_form(a, page, "/admin/holds", f"/admin/holds/{event_id}/approve")
    assert response.status_code == 302
    assert "decided already" in text_of(parse(a.get("/admin/holds")).select_one("main"))
    db_session.refresh(row)
    assert row.hold_until is None


def test_an_approved_hold_ends_and_only_an_auditor_extends_it(app, db_session, district, officer, wang):
    police = signed_in(app, officer)
    reveal(police, wang["person_id"], investigation=True)
    event_id = db_session.scalar(select(RecordAccess.audit_event_id))
    a, _response = approve(app, db_session, event_id)
    held = db_session.scalars(select(RecordAccess).where(RecordAccess.hold_until.is_not(None))).one()
    later = record_access.entries(db_session, wang["person_id"], now=held.hold_until + timedelta(seconds=1))
    assert len(later) == 1
    # An officer cannot see or extend holds; an auditor can, by ACCESS_HOLD_DAYS from its end.
    assert police.get("/admin/holds").status_code in (403, 404)
    page = parse(a.get("/admin/holds"))
    assert [r["data-event"] for r in page.select("#holds .hold")] == [str(held.audit_event_id)]
    assert officer.name not in text_of(page.select_one("#holds"))
    before = held.hold_until
    response = factories.post_form(a, page, "/admin/holds", "/extend")
    assert response.status_code == 302
    db_session.refresh(held)
    assert held.hold_until == before + timedelta(days=180)
    extension = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "access.hold_extend")).one()
    assert extension.object_id == str(held.audit_event_id)
    auditor = db_session.get(type(officer), extension.actor_id)
    assert auditor.role.value == "auditor"
    with pytest.raises(record_access.NoHold):
        record_access.extend_hold(db_session, auditor, held.audit_event_id, days=1, actor=audit.Actor(user=auditor),
                                  now=held.hold_until + timedelta(days=1))
    assert police.post(f"/admin/holds/{held.audit_event_id}/extend",
                       data={"csrf_token": factories.csrf_token(police)}).status_code in (403, 404)


def test_an_items_full_id_and_a_full_export_are_listed_a_masked_one_is_not(app, db_session, district, landlord,
                                                                             officer, wang):
    actor = audit.Actor(user=officer)
    queue.reveal_id(db_session, officer, wang["move_in"], 0, actor, per_hour=30)
    # A report waiting in the queue that names him (a second house: the "two houses" flag, no matter here).
    room = factories.make_address(db_session, district.beats[0], building="13栋", unit="4单元", room="403")
    other = factories.make_house(db_session, landlord, room).house_id
    factories.make_move_in(db_session, landlord, other, [factories.occupant(name="王小明",
                                                                              id_number=wang["id_number"])])
    source = exports.Source("queue")
    for full in (False, True):
        t = exports.table(db_session, officer, source, full=full)
        exports.write(t, "csv")
        exports.record(db_session, officer, actor, source, t, "csv", full=full, reason="case" if full else None)
    kinds = db_session.execute(select(RecordAccess.kind, RecordAccess.reason).where(
        RecordAccess.person_id == wang["person_id"]).order_by(RecordAccess.id)).all()
    assert kinds == [("id", record_access.CHECKING_A_REPORT), ("export", "case")]


def test_no_message_sender_means_no_service(app, db_session, monkeypatch, wang):
    monkeypatch.setitem(app.config, "MESSAGE_SENDER", "none")
    c = visitor(app)
    response = c.get("/my-record")
    assert response.status_code == 503 and parse(response).select_one("#not-available") is not None
    token = factories.csrf_token(c)
    assert c.post("/my-record", data={"csrf_token": token, "id_number": wang["id_number"],
                                      "phone": WANGS_PHONE}).status_code == 503


def test_the_privacy_notice_links_to_it(app, db_session):
    link = parse(visitor(app).get("/privacy")).select_one("#my-record-link")
    assert link["href"] == "/my-record"


def test_purge_forgets_old_challenges_and_outbox_messages(app, db_session, wang):
    c = visitor(app)
    ask(c, wang["id_number"])
    ask(c, wang["id_number"])
    day_ago = utcnow() - timedelta(days=1, minutes=1)
    oldest = db_session.scalar(select(func.min(AccessChallenge.id)))
    db_session.execute(AccessChallenge.__table__.update().where(AccessChallenge.id == oldest)
                       .values(created_at=day_ago))
    db_session.execute(OutboxMessage.__table__.update().where(
        OutboxMessage.id == db_session.scalar(select(func.min(OutboxMessage.id)))).values(created_at=day_ago))
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["purge"], env={"LANG": "en"})
    assert result.exit_code == 0, result.output
    assert db_session.scalars(select(AccessChallenge.id)).all() == [oldest + 1]
    assert outbox_count(db_session) == 1


@pytest.fixture
def committed(app):
    """Requests of their own, committed; their challenges and audit rows (the chain's end) removed after."""
    db.session.remove()
    db.session.configure(bind=db.engine, join_transaction_mode="conditional_savepoint")
    with Session(db.engine) as s:
        start = s.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
    yield
    with Session(db.engine) as s:
        s.execute(delete(AccessChallenge))
        s.execute(delete(AuditEvent).where(AuditEvent.id > start, AuditEvent.action == "access.code"))
        s.commit()


def test_twenty_requests_at_once_from_one_address_count_as_twenty(app, committed):
    """Counted one after another (the audit chain's order): of twenty at once from one address, the hour's ten
    make a challenge and the other ten are refused. The document's codes are counted under the same order."""
    number = factories.occupant(birth="19771111")["id_number"]
    limits = record_access.Limits()
    barrier, outcomes = threading.Barrier(20), []

    def one(i: int) -> None:
        with app.test_request_context(), writing(), Session(db.engine) as s:
            barrier.wait()
            try:
                record_access.request_code(s, "resident_id", number, "13812349999", ip="10.9.0.1",
                                           limits=limits, message_text=str)
                s.commit()
                outcomes.append("answered")
            except record_access.TooManyRequests:
                s.commit()
                outcomes.append("refused")
            except Exception as err:  # noqa: BLE001 - reported below
                outcomes.append(repr(err))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes) == ["answered"] * 10 + ["refused"] * 10
    with Session(db.engine) as s:
        assert s.scalar(select(func.count()).select_from(AccessChallenge)) == 10


def test_through_a_gateway_the_answer_does_not_wait_for_the_message(app, db_session, monkeypatch, wang):
    """A slow gateway: the page answers before the message leaves, so the answer's time tells nothing of whether
    the number is registered; the message then reaches the gateway, to the phone on record."""
    import time

    from tests.integration.test_messages import Gateway

    with Gateway(delay=1.5) as gateway:
        monkeypatch.setitem(app.config, "MESSAGE_SENDER", "http")
        monkeypatch.setitem(app.config, "MESSAGE_HTTP_URL", gateway.url)
        c = visitor(app)
        page = parse(c.get("/my-record"))
        with c.client.post("/my-record", data={"csrf_token": page.find("input", attrs={"name": "csrf_token"})["value"],
                                               "id_type": "resident_id", "id_number": wang["id_number"],
                                               "phone": WANGS_PHONE}, buffered=False) as response:
            # The gateway records a message only after its delay, before it answers: a sender that waited for
            # it would find it recorded here.
            assert response.status_code == 302 and gateway.received == []
        for _ in range(100):  # the message leaves once the answer is closed
            if gateway.received:
                break
            time.sleep(0.05)
    assert [body["phone"] for _headers, body in gateway.received] == ["13812340001"]
    assert outbox_count(db_session) == 0


def test_through_a_slow_gateway_the_connection_closes_as_soon_as_for_an_unknown_number(app, db_session, monkeypatch,
                                                                                       wang):
    """Not only the answer: closing it (the server's end of the connection, which a client sees as the end of
    the stream) must not wait for the gateway either, or the time until the connection closes tells whether
    the number is registered with a phone (a code left) or not."""
    import time

    from tests.integration.test_messages import Gateway

    with Gateway(delay=1.5) as gateway:
        monkeypatch.setitem(app.config, "MESSAGE_SENDER", "http")
        monkeypatch.setitem(app.config, "MESSAGE_HTTP_URL", gateway.url)
        c = visitor(app)
        page = parse(c.get("/my-record"))
        response = c.client.post("/my-record", data={
            "csrf_token": page.find("input", attrs={"name": "csrf_token"})["value"],
            "id_type": "resident_id", "id_number": wang["id_number"], "phone": WANGS_PHONE}, buffered=False)
        assert response.status_code == 302
        started = time.monotonic()
        response.close()  # where the server would close the connection
        assert time.monotonic() - started < 0.5
        for _ in range(100):  # the message still leaves, a moment later
            if gateway.received:
                break
            time.sleep(0.05)
    assert [body["phone"] for _headers, body in gateway.received] == ["13812340001"]


def test_a_double_click_on_extend_extends_a_hold_once(app, db_session, district, officer, wang):
    """The form names the end it extends: the second of two posts of one page (a double click, a retry, the back
    button) finds the hold extended already, says so and changes nothing, so a hold is never hidden 360 days."""
    reveal(signed_in(app, officer), wang["person_id"], investigation=True)
    a, _response = approve(app, db_session, db_session.scalar(select(RecordAccess.audit_event_id)))
    held = db_session.scalars(select(RecordAccess).where(RecordAccess.hold_until.is_not(None))).one()
    before = held.hold_until
    page = parse(a.get("/admin/holds"))
    assert factories.post_form(a, page, "/admin/holds", "/extend").status_code == 302
    again = factories.post_form(a, page, "/admin/holds", "/extend")
    assert again.status_code == 302
    db_session.refresh(held)
    assert held.hold_until == before + timedelta(days=180)
    assert len(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "access.hold_extend")).all()) == 1
    assert "was extended already" in text_of(parse(a.get("/admin/holds")).select_one("main"))


def test_an_auditor_ends_a_hold_early_and_the_person_sees_the_entry_from_then(app, db_session, district, officer,
                                                                                wang):
    police = signed_in(app, officer)
    reveal(police, wang["person_id"], investigation=True)
    a, _response = approve(app, db_session, db_session.scalar(select(RecordAccess.audit_event_id)))
    held = db_session.scalars(select(RecordAccess).where(RecordAccess.hold_until.is_not(None))).one()
    assert record_access.entries(db_session, wang["person_id"]) == []  # hidden while the hold runs
    page = parse(a.get("/admin/holds"))
    assert factories.post_form(a, page, "/admin/holds", "/end").status_code == 302
    again = factories.post_form(a, page, "/admin/holds", "/end")  # a double click: ends nothing more
    assert again.status_code == 302
    assert "has ended already" in text_of(parse(a.get("/admin/holds")).select_one("main"))
    assert len(record_access.entries(db_session, wang["person_id"])) == 1
    ended = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "access.hold_end")).one()
    assert ended.object_id == str(held.audit_event_id)
    assert db_session.get(type(officer), ended.actor_id).role.value == "auditor"
    assert parse(a.get("/admin/holds")).select_one("#no-holds") is not None
    assert police.post(f"/admin/holds/{held.audit_event_id}/end",
                       data={"csrf_token": factories.csrf_token(police)}).status_code in (403, 404)
