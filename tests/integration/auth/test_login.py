"""Signing in and out: generic failures, revocable sessions, timeouts, safe redirects."""
import time

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, User
from tests import factories
from tests.browser import FormClient, parse


def errors_of(response) -> list[str]:
    return [li.get_text(strip=True) for li in parse(response).select(".error-summary li")]


def test_wrong_password_and_unknown_phone_get_the_same_answer(client, landlord):
    wrong = client.submit("/auth/login", {"phone": landlord.phone, "password": "not the password at all"})
    unknown = client.submit("/auth/login", {"phone": "13999999999", "password": "not the password at all"})
    assert wrong.status_code == unknown.status_code == 200
    assert errors_of(wrong) == errors_of(unknown) and errors_of(wrong)


def test_admin_clears_the_failed_attempts_of_an_account(app, client, db_session, landlord):
    landlord.failed_logins, landlord.throttled_until = 5, factories.far_future()
    db_session.commit()
    admin = factories.make_user(db_session, role="admin")
    admin_client = FormClient(app.test_client())
    admin_client.sign_in(admin.phone, factories.PASSWORD, totp_secret=admin.totp_secret)
    response = admin_client.submit("/admin/", {}, form_index=0)
    assert response.status_code == 302
    db_session.refresh(landlord)
    assert landlord.throttled_until is None and landlord.failed_logins == 0
    assert client.sign_in(landlord.phone, factories.PASSWORD).status_code == 302


def test_logout_really_ends_the_session(client, landlord_client):
    cookie = landlord_client.get_cookie("session")
    assert landlord_client.get("/landlord/").status_code == 200
    page = parse(landlord_client.get("/landlord/"))
    token = page.find("form", action="/auth/logout").find("input", attrs={"name": "csrf_token"})["value"]
    assert landlord_client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    # Replaying the cookie from before the logout must not work: the server bumped the session version.
    client.set_cookie("session", cookie.value, domain=cookie.domain)
    response = client.get("/landlord/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_changing_the_password_ends_other_sessions(app, db_session, landlord, landlord_client):
    other = FormClient(app.test_client())
    other.sign_in(landlord.phone, factories.PASSWORD)
    response = landlord_client.submit("/auth/change-password", {
        "current_password": factories.PASSWORD, "new_password": "violet harbour ladder 7",
        "confirm_password": "violet harbour ladder 7"})
    assert response.status_code == 302
    assert landlord_client.get("/landlord/").status_code == 200
    assert other.get("/landlord/").status_code == 302


def test_idle_timeout_is_checked_on_the_server(app, landlord_client, db_session, landlord):
    with landlord_client.session_transaction() as s:
        s["seen_at"] = time.time() - 31 * 60
    response = landlord_client.get("/landlord/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "session.timeout",
                                                      AuditEvent.actor_id == landlord.id))


def test_idle_timeout_in_one_browser_leaves_the_other_signed_in(app, db_session, landlord, landlord_client):
    other = FormClient(app.test_client())
    other.sign_in(landlord.phone, factories.PASSWORD)
    with landlord_client.session_transaction() as s:
        s["seen_at"] = time.time() - 31 * 60
    assert landlord_client.get("/landlord/").status_code == 302
    assert other.get("/landlord/").status_code == 200
    # The timed-out cookie stays dead, sent again as it was.
    assert landlord_client.get("/landlord/").status_code == 302


def test_an_expired_form_keeps_the_user_signed_in_and_the_values(landlord_client, db_session, landlord):
    response = landlord_client.post("/account/tokens", data={"csrf_token": "expired-or-forged", "name": "物业系统"})
    assert response.status_code == 400
    kept = {i["name"]: i.get("value") for i in parse(response).select("main form input[type=hidden]")}
    assert kept["name"] == "物业系统"
    assert landlord_client.get("/landlord/").status_code == 200
    sent_again = landlord_client.post("/account/tokens", data=kept)
    assert sent_again.status_code == 200 and parse(sent_again).find(id="api-token") is not None


def test_absolute_timeout(landlord_client):
    with landlord_client.session_transaction() as s:
        s["auth_at"] = time.time() - 13 * 3600
    assert landlord_client.get("/landlord/").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "javascript:alert(1)",
                                    "https://evil.example/", "/%0d%0aSet-Cookie:x"])
def test_next_only_allows_same_host_paths(client, landlord, target):
    response = client.submit(f"/auth/login?next={target}", {"phone": landlord.phone,
                                                             "password": factories.PASSWORD})
    location = response.headers["Location"]
    assert location.endswith("/landlord/") or location == "/landlord/"


def test_next_keeps_a_same_host_path(client, landlord):
    response = client.submit("/auth/login?next=/landlord/addresses", {"phone": landlord.phone,
                                                                      "password": factories.PASSWORD})
    assert response.headers["Location"].endswith("/landlord/addresses")


def test_account_created_by_command_must_change_password_first(app, client, db_session, district):
    from portal.services import accounts

    user, initial = accounts.create_account(db_session, role="landlord", phone="13811112222", name="柜台代办")
    db_session.commit()
    client.sign_in(user.phone, initial)
    response = client.get("/landlord/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/change-password")
    client.submit("/auth/change-password", {"current_password": initial, "new_password": "amber kettle summit 9",
                                            "confirm_password": "amber kettle summit 9"})
    assert client.get("/landlord/").status_code == 200
    assert db_session.scalar(select(User.must_change_password).where(User.id == user.id)) is False
