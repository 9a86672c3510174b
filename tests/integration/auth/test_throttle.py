"""Guessing is slowed down, never locked: growing delays per account and per source address, one answer for
an unknown phone, a wrong password and an attempt that must wait; wrong current passwords count too."""
from datetime import timedelta

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select, update

from portal.models import AuditEvent, LoginSource, User
from portal.models.base import utcnow
from portal.services import auth
from portal.services.audit import Actor
from portal.services.throttle import Throttle
from tests import factories
from tests.browser import FormClient, parse

NEW = "violet harbour ladder 7"


def errors_of(response) -> list[str]:
    return [li.get_text(strip=True) for li in parse(response).select(".error-summary li")]


def wait_over(db_session, user) -> None:
    """As if the delay had passed."""
    db_session.execute(update(User).where(User.id == user.id).values(throttled_until=factories.far_past()))
    db_session.commit()


def keep_waiting(db_session, user) -> None:
    """As if the attacker went on guessing whenever the delay was over: on a loaded machine the first delay
    of 2 s may pass between two requests of a test."""
    db_session.execute(update(User).where(User.id == user.id).values(throttled_until=factories.far_future()))
    db_session.commit()


def test_after_five_failures_the_right_password_waits_and_gets_the_same_answer(client, db_session, landlord):
    wrong = [client.submit("/auth/login", {"phone": landlord.phone, "password": "wrong password here"})
             for _ in range(5)]
    db_session.refresh(landlord)
    assert landlord.failed_logins == 5
    assert timedelta(0) < landlord.throttled_until - landlord.last_failed_at <= timedelta(seconds=2)
    keep_waiting(db_session, landlord)
    throttled = client.submit("/auth/login", {"phone": landlord.phone, "password": factories.PASSWORD})
    unknown = client.submit("/auth/login", {"phone": "13999999999", "password": factories.PASSWORD})
    assert throttled.status_code == unknown.status_code == wrong[-1].status_code == 200
    assert errors_of(throttled) == errors_of(unknown) == errors_of(wrong[-1]) and errors_of(throttled)
    assert client.get("/landlord/").status_code == 302  # not signed in
    db_session.refresh(landlord)
    assert landlord.failed_logins == 5  # refused without checking, and not counted
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.actor_id == landlord.id,
                                                      AuditEvent.outcome == "throttled"))
    wait_over(db_session, landlord)
    assert client.sign_in(landlord.phone, factories.PASSWORD).status_code == 302
    db_session.refresh(landlord)
    assert landlord.failed_logins == 0 and landlord.throttled_until is None


def test_the_delay_doubles_up_to_five_minutes_and_never_locks_an_officer_out(db_session, officer):
    limits, now, waits = Throttle(), utcnow(), []
    for n in range(40):  # an attacker who knows the officer's phone, from many addresses, as fast as allowed
        outcome, _ = auth.check_password(db_session, officer.phone, f"guess number {n}", Actor(ip=f"192.0.2.{n}"),
                                         limits=limits, now=now)
        assert outcome is auth.Outcome.bad_credentials
        db_session.refresh(officer)
        until = officer.throttled_until
        waits.append(until - now if until and until > now else timedelta(0))
        now = max(now, until or now) + timedelta(milliseconds=1)
    assert waits[:4] == [timedelta(0)] * 4
    assert [w.total_seconds() for w in waits[4:12]] == [2, 4, 8, 16, 32, 64, 128, 256]
    assert max(waits) == timedelta(minutes=5) == waits[-1]
    inside = officer.throttled_until - timedelta(seconds=1)
    assert auth.check_password(db_session, officer.phone, factories.PASSWORD, Actor(ip="198.51.100.1"),
                               limits=limits, now=inside)[0] is auth.Outcome.throttled
    # Five minutes after the last guess at most, the officer gets in with the password (and then the code).
    assert auth.check_password(db_session, officer.phone, factories.PASSWORD, Actor(ip="198.51.100.1"),
                               limits=limits, now=now)[0] is auth.Outcome.needs_totp


def test_failures_from_one_address_slow_down_that_address_only(app, client, db_session, landlord):
    for n in range(20):  # one address trying many phones
        client.submit("/auth/login", {"phone": f"1399999{n:04d}", "password": "guessing once more"})
    source = db_session.get(LoginSource, client.environ_base["REMOTE_ADDR"])
    assert source.failures == 20 and source.throttled_until is not None
    # Still guessing whenever the delay is over (a loaded machine must not let the 2 s pass before the next).
    source.throttled_until = factories.far_future()
    db_session.commit()
    refused = client.submit("/auth/login", {"phone": landlord.phone, "password": factories.PASSWORD})
    assert refused.status_code == 200 and client.get("/landlord/").status_code == 302
    unknown = FormClient(app.test_client()).submit("/auth/login", {"phone": "13999990000", "password": "x" * 12})
    assert errors_of(refused) == errors_of(unknown)
    assert FormClient(app.test_client()).sign_in(landlord.phone, factories.PASSWORD).status_code == 302


def test_wrong_current_passwords_count_and_wait_like_failed_sign_ins(landlord_client, db_session, landlord):
    for _ in range(5):
        response = landlord_client.submit("/auth/change-password", {
            "current_password": "not the password", "new_password": NEW, "confirm_password": NEW})
        assert response.status_code == 200
    db_session.refresh(landlord)
    assert landlord.failed_logins == 5 and landlord.throttled_until is not None
    keep_waiting(db_session, landlord)
    response = landlord_client.submit("/auth/change-password", {
        "current_password": factories.PASSWORD, "new_password": NEW, "confirm_password": NEW})
    assert response.status_code == 200 and parse(response).find(id="current_password-error") is not None
    db_session.refresh(landlord)
    assert landlord.failed_logins == 5
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "password.change", AuditEvent.actor_id == landlord.id,
        AuditEvent.outcome == "failure")) == 5
    wait_over(db_session, landlord)
    response = landlord_client.submit("/auth/change-password", {
        "current_password": factories.PASSWORD, "new_password": NEW, "confirm_password": NEW})
    assert response.status_code == 302
    db_session.refresh(landlord)
    assert landlord.failed_logins == 0


def test_users_unlock_clears_the_delay(app, db_session, landlord):
    landlord.failed_logins, landlord.throttled_until = 12, factories.far_future()
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["users", "unlock", "--phone", landlord.phone])
    assert result.exit_code == 0, result.output
    db_session.refresh(landlord)
    assert landlord.failed_logins == 0 and landlord.throttled_until is None


def test_the_owners_own_browser_is_not_kept_out_by_an_attacker(app, db_session, officer):
    owner = FormClient(app.test_client())
    owner.sign_in(officer.phone, factories.PASSWORD, totp_secret=officer.totp_secret)  # once, some day
    owner.post("/auth/logout", data={"csrf_token": parse(owner.get("/officer/queue")).find(
        "input", attrs={"name": "csrf_token"})["value"]})
    attacker = FormClient(app.test_client())
    for _ in range(5):
        attacker.submit("/auth/login", {"phone": officer.phone, "password": "a guess at it"})
    db_session.refresh(officer)
    assert officer.failed_logins == 5
    # The attacker goes on guessing whenever the delay is over: the account is always waiting.
    db_session.execute(update(User).where(User.id == officer.id).values(throttled_until=factories.far_future(),
                                                                        last_totp_step=None))  # a later day
    db_session.commit()
    stranger = FormClient(app.test_client())
    assert stranger.submit("/auth/login", {"phone": officer.phone, "password": factories.PASSWORD}).status_code == 200
    # The browser the officer signed in from before gets in at once, code and all.
    assert owner.sign_in(officer.phone, factories.PASSWORD, totp_secret=officer.totp_secret).status_code == 302
    assert owner.get("/officer/queue").status_code == 200


def test_a_forged_or_foreign_device_cookie_changes_nothing(app, db_session, landlord):
    attacker = FormClient(app.test_client())
    landlord.failed_logins, landlord.throttled_until = 6, factories.far_future()
    db_session.commit()
    for forged in (f"[{landlord.id}]", URLSafeTimedSerializer("another key", salt="known-device").dumps([landlord.id])):
        attacker.set_cookie("device", forged, domain="localhost")
        response = attacker.submit("/auth/login", {"phone": landlord.phone, "password": factories.PASSWORD})
        assert response.status_code == 200 and attacker.get("/landlord/").status_code == 302
