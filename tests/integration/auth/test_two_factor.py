"""Staff sign in with password and TOTP: enrolment, one use per code, strict format, wrong codes slowed."""
import threading
import time

import pyotp
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from portal.db import writing
from portal.extensions import db
from portal.models import AuditEvent, User
from portal.services import auth
from portal.services.audit import SYSTEM
from portal.services.throttle import Throttle
from tests import factories
from tests.browser import FormClient, parse

OFFICER_PAGES = ["/officer/", "/officer/queue", "/officer/addresses", "/officer/items/1"]


def password_step(client, user):
    response = client.submit("/auth/login", {"phone": user.phone, "password": factories.PASSWORD})
    assert response.status_code == 302
    return response.headers["Location"]


def test_password_alone_never_reaches_officer_pages(client, officer):
    assert password_step(client, officer).endswith("/auth/two-factor")
    for page in OFFICER_PAGES:
        response = client.get(page)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_code_is_accepted_once(app, db_session, officer):
    code = pyotp.TOTP(officer.totp_secret).now()
    first = FormClient(app.test_client())
    password_step(first, officer)
    assert first.submit("/auth/two-factor", {"code": code}).status_code == 302
    assert first.get("/officer/queue").status_code == 200

    second = FormClient(app.test_client())
    password_step(second, officer)
    response = second.submit("/auth/two-factor", {"code": code})
    assert response.status_code == 200
    assert parse(response).find(id="code-error") is not None
    assert second.get("/officer/").status_code == 302
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.actor_id == officer.id,
                                                      AuditEvent.outcome == "replay"))


@pytest.mark.parametrize("shape", ["fullwidth", "letters", "seven", "spaced"])
def test_only_six_ascii_digits_count(client, officer, shape):
    code = pyotp.TOTP(officer.totp_secret).now()
    typed = {"fullwidth": "".join(chr(ord(c) + 0xFEE0) for c in code), "letters": code[:5] + "a",
             "seven": code + "1", "spaced": code[:3] + " " + code[3:]}[shape]
    password_step(client, officer)
    response = client.submit("/auth/two-factor", {"code": typed})
    if shape == "spaced":  # spaces are removed, so this is the right code
        assert response.status_code == 302
    else:
        assert response.status_code == 200 and client.get("/officer/").status_code == 302


def test_five_wrong_codes_make_the_next_code_wait_unchecked(client, db_session, officer):
    password_step(client, officer)
    for _ in range(5):
        client.submit("/auth/two-factor", {"code": "000000"})
    db_session.refresh(officer)
    assert officer.failed_logins == 5 and officer.throttled_until is not None
    # As if guessing went on whenever the delay was over (2 s may pass between two requests on a busy machine).
    db_session.execute(update(User).where(User.id == officer.id).values(throttled_until=factories.far_future()))
    db_session.commit()
    response = client.submit("/auth/two-factor", {"code": pyotp.TOTP(officer.totp_secret).now()})
    assert response.status_code == 200 and client.get("/officer/").status_code == 302
    db_session.refresh(officer)
    assert officer.failed_logins == 5  # refused unchecked, and not counted
    # Once the short delay has passed, the right code gets in: nothing is locked.
    db_session.execute(update(User).where(User.id == officer.id).values(throttled_until=factories.far_past()))
    db_session.commit()
    response = client.submit("/auth/two-factor", {"code": pyotp.TOTP(officer.totp_secret).now()})
    assert response.status_code == 302 and client.get("/officer/queue").status_code == 200


def test_first_sign_in_enrols_the_authenticator(client, db_session, district):
    officer = factories.make_user(db_session, role="officer", beat=district.beats[0], enrolled=False)
    assert password_step(client, officer).endswith("/auth/enrol")
    page = parse(client.get("/auth/enrol"))
    assert page.find("img", class_="qr")["src"].startswith("data:image/svg+xml")
    key = page.find(id="totp-key").get_text().replace(" ", "")
    assert len(key) == 32  # 160 bits in base32
    assert client.get("/officer/").status_code == 302  # not signed in before a code confirms the key
    response = client.submit("/auth/enrol", {"code": pyotp.TOTP(key).now()})
    assert response.status_code == 302
    assert client.get("/officer/queue").status_code == 200
    db_session.refresh(officer)
    assert officer.totp_confirmed and officer.totp_secret == key


def test_concurrent_requests_with_one_code_give_exactly_one_success(app):
    """Real connections, committed data: the conditional UPDATE must let exactly one through."""
    with Session(db.engine) as s:
        user = User(role="admin", phone=factories.phone(), name="并发测试", password_hash="x",
                    totp_secret=auth.new_totp_secret(), totp_confirmed=True)
        s.add(user)
        s.commit()
        uid, secret = user.id, user.totp_secret
    code = pyotp.TOTP(secret).now()
    results, barrier = [], threading.Barrier(4)

    def attempt():
        barrier.wait()
        with writing(), Session(db.engine) as s:  # as a POST request does: BEGIN IMMEDIATE on SQLite
            u = s.get(User, uid)
            outcome = auth.verify_totp(s, u, code, SYSTEM, limits=Throttle())
            s.commit()  # as the view does, whatever the outcome
            results.append(outcome)

    try:
        threads = [threading.Thread(target=attempt) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert results.count(auth.Outcome.ok) == 1
        assert len(results) == 4 and set(results) <= {auth.Outcome.ok, auth.Outcome.replayed}
    finally:
        with Session(db.engine) as s:
            s.execute(delete(AuditEvent).where(AuditEvent.actor_id == uid))
            s.execute(delete(User).where(User.id == uid))
            s.commit()


def test_pending_second_factor_expires(client, officer):
    password_step(client, officer)
    with client.session_transaction() as s:
        s["pending_at"] = time.time() - 600
    response = client.get("/auth/two-factor")
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
