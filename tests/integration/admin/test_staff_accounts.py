"""Administrators create staff accounts (enrolled at first sign-in), change role or station, disable and
enable, reset authenticators, see and end sessions; never for themselves, never the last administrator."""
from __future__ import annotations

import json

import pyotp
import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Role, User
from portal.services import audit, staff_accounts
from portal.services.errors import NotFound, ValidationFailed
from tests import factories
from tests.browser import FormClient, parse


def _audit(db_session, action, outcome="success"):
    return db_session.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.outcome == outcome)
                              .order_by(AuditEvent.id)).all()


def _token(client) -> str:
    return parse(client.get("/admin/")).find("input", attrs={"name": "csrf_token"})["value"]


def _post(client, url, **data):
    return client.post(url, data={"csrf_token": _token(client), **data})


def _enrol_and_sign_in(app, phone, password):
    """A new staff member's first sign-in: the one-time password, the authenticator, a password of their own."""
    c = factories.english(FormClient(app.test_client()))
    r = c.submit("/auth/login", {"phone": phone, "password": password})
    assert r.headers["Location"].endswith("/auth/enrol")
    page = parse(c.get("/auth/enrol"))
    secret = page.find(class_="secret").get_text().replace(" ", "").strip()
    r = c.submit("/auth/enrol", {"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 302
    assert c.get(r.headers["Location"]).headers["Location"].endswith("/auth/change-password")
    new = "a brand new pass phrase for the beat"
    r = c.submit("/auth/change-password", {"current_password": password, "new_password": new,
                                           "confirm_password": new})
    assert r.status_code == 302
    return c, secret


def test_an_officer_account_is_created_and_enrols_at_first_sign_in(app, admin_client, db_session, district,
                                                                   admin):
    beat = district.beats[1]
    r = admin_client.submit("/admin/accounts/new", {"role": "officer", "name": "新警官", "phone": "13955550001",
                                                    "where": f"beat:{beat.code}"})
    assert r.status_code == 200
    page = parse(r)
    initial = page.find(id="one-time-password").get_text().strip()
    user = db_session.scalar(select(User).where(User.phone == "13955550001"))
    assert (user.role, user.beat_id, user.station_id, user.must_change_password, user.totp_confirmed) == (
        Role.officer, beat.id, beat.station_id, True, False)
    [row] = _audit(db_session, "account.create")
    assert row.actor_id == admin.id and json.loads(row.detail)["after"] == {"role": "officer", "station": None,
                                                                           "beat": beat.code}
    c, _secret = _enrol_and_sign_in(app, "13955550001", initial)
    assert c.get("/officer/").status_code == 200


def test_a_clerk_needs_a_station_and_signs_in_with_a_code(app, admin_client, db_session, district):
    r = admin_client.submit("/admin/accounts/new", {"role": "clerk", "name": "地址员", "phone": "13955550002",
                                                    "where": ""})
    assert "An address clerk needs a station or a beat." in factories.field_error(parse(r), "where")
    r = admin_client.submit("/admin/accounts/new", {"role": "clerk", "name": "地址员", "phone": "13955550002",
                                                    "where": f"station:{district.stations[0].code}"})
    initial = parse(r).find(id="one-time-password").get_text().strip()
    clerk = db_session.scalar(select(User).where(User.phone == "13955550002"))
    assert clerk.role == Role.clerk and clerk.role.is_staff
    _enrol_and_sign_in(app, clerk.phone, initial)


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"role": "landlord"}, "role", "Choose one of the roles"),
    ({"role": ""}, "role", "Choose one of the roles"),
    ({"where": "beat:NOPE"}, "where", "Choose one of the stations or beats"),
    ({"name": ""}, "name", "Enter the name."),
    ({"phone": "123"}, "phone", "mobile number of 11 digits"),
])
def test_bad_account_input_is_told_at_the_field(admin_client, db_session, district, data, field, message):
    values = {"role": "auditor", "name": "审计员二", "phone": "13955550003", "where": "", **data}
    r = admin_client.submit("/admin/accounts/new", values)
    assert r.status_code == 400
    assert message in factories.field_error(parse(r), field)
    assert db_session.scalar(select(User).where(User.phone == "13955550003")) is None


def test_a_taken_phone_is_told_at_the_field(admin_client, db_session, officer):
    r = admin_client.submit("/admin/accounts/new", {"role": "auditor", "name": "审计", "phone": officer.phone,
                                                    "where": ""})
    assert r.status_code == 400
    assert "already exists" in factories.field_error(parse(r), "phone")


def test_disable_and_enable(app, admin_client, db_session, officer, officer_client, admin):
    assert officer_client.get("/officer/").status_code == 200
    r = _post(admin_client, f"/admin/accounts/{officer.id}/disable")
    assert r.status_code == 302
    db_session.refresh(officer)
    assert not officer.active
    assert officer_client.get("/officer/").status_code == 302  # the session ended
    [row] = _audit(db_session, "account.disable")
    detail = json.loads(row.detail)
    assert (detail["before"]["active"], detail["after"]["active"], row.actor_id) == (True, False, admin.id)
    _post(admin_client, f"/admin/accounts/{officer.id}/enable")
    db_session.refresh(officer)
    assert officer.active and len(_audit(db_session, "account.enable")) == 1
    r = FormClient(app.test_client()).submit("/auth/login", {"phone": officer.phone, "password": factories.PASSWORD})
    assert r.headers["Location"].endswith("/auth/two-factor")  # the password is right again


def test_no_administrator_disables_or_changes_themselves(admin_client, db_session, admin):
    factories.make_user(db_session, role="admin")  # not the last: the refusal is about oneself
    r = admin_client.post(f"/admin/accounts/{admin.id}/disable", data={"csrf_token": _token(admin_client)},
                          follow_redirects=True)
    assert "You cannot disable your own account." in parse(r).find(class_="notice-error").get_text()
    r = _post(admin_client, f"/admin/accounts/{admin.id}/edit", role="officer", where="")
    assert r.status_code == 400
    assert "cannot change your own role" in parse(r).find(class_="error-summary").get_text()
    db_session.refresh(admin)
    assert admin.active and admin.role == Role.admin
    assert len(_audit(db_session, "account.disable", "refused")) == 1
    assert len(_audit(db_session, "account.update", "refused")) == 1
    page = parse(admin_client.get(f"/admin/accounts/{admin.id}"))
    assert page.find(id="own-account") is not None and page.find(id="disable") is None


def test_the_last_active_administrator_is_never_disabled_or_demoted(db_session, admin):
    """Two administrators disabling each other at once: the second request, already in flight when the first
    disabled its sender, finds the other one the last active administrator and is refused."""
    other = factories.make_user(db_session, role="admin")
    staff_accounts.set_active(db_session, admin, other.id, False, audit.Actor(user=admin))
    db_session.commit()
    assert staff_accounts.count_active_admins(db_session) == 1
    for attempt in (lambda: staff_accounts.set_active(db_session, other, admin.id, False, audit.Actor(user=other)),
                    lambda: staff_accounts.change(db_session, other, admin.id, role="auditor", where="",
                                                  actor=audit.Actor(user=other))):
        with pytest.raises(ValidationFailed) as failure:
            attempt()
        assert failure.value.errors[0].code == "last_admin"
    db_session.commit()
    db_session.refresh(admin)
    assert admin.active and admin.role == Role.admin
    assert len(_audit(db_session, "account.disable", "refused")) == 1


def test_change_role_and_station_ends_the_sessions(admin_client, db_session, officer, officer_client, district):
    r = _post(admin_client, f"/admin/accounts/{officer.id}/edit", role="clerk",
              where=f"station:{district.stations[1].code}")
    assert r.status_code == 302
    db_session.refresh(officer)
    assert (officer.role, officer.station_id, officer.beat_id) == (Role.clerk, district.stations[1].id, None)
    assert officer_client.get("/officer/").status_code == 302
    [row] = _audit(db_session, "account.update")
    assert json.loads(row.detail)["before"]["role"] == "officer"
    assert json.loads(row.detail)["after"] == {"role": "clerk", "station": district.stations[1].code,
                                               "beat": None, "active": True, "authenticator": True}
    r = _post(admin_client, f"/admin/accounts/{officer.id}/edit", role="officer", where="")
    assert "needs a station or a beat" in factories.field_error(parse(r), "where")


def test_reset_authenticator_enrols_again(app, admin_client, db_session, officer, officer_client):
    _post(admin_client, f"/admin/accounts/{officer.id}/reset-authenticator")
    db_session.refresh(officer)
    assert not officer.totp_confirmed and officer.totp_secret_sealed is None
    assert officer_client.get("/officer/").status_code == 302
    c = FormClient(app.test_client())
    r = c.submit("/auth/login", {"phone": officer.phone, "password": factories.PASSWORD})
    assert r.headers["Location"].endswith("/auth/enrol")
    assert len(_audit(db_session, "account.totp_reset")) == 1


def test_sessions_are_listed_and_ended(admin_client, db_session, officer, officer_client):
    page = parse(admin_client.get(f"/admin/accounts/{officer.id}"))
    assert len(page.find(id="sessions").find_all("li", class_="card")) == 1
    r = _post(admin_client, f"/admin/accounts/{officer.id}/end-sessions")
    assert r.status_code == 302
    assert officer_client.get("/officer/").status_code == 302
    page = parse(admin_client.get(f"/admin/accounts/{officer.id}"))
    assert page.find(id="sessions-empty") is not None
    assert len(_audit(db_session, "account.sessions_end")) == 1


def test_a_signed_out_session_is_not_listed(app, admin_client, db_session, officer, officer_client):
    token = parse(officer_client.get("/officer/")).find("input", attrs={"name": "csrf_token"})["value"]
    officer_client.post("/auth/logout", data={"csrf_token": token})
    page = parse(admin_client.get(f"/admin/accounts/{officer.id}"))
    assert page.find(id="sessions-empty") is not None


def test_a_bureau_administrator_manages_only_their_bureau(app, db_session, district, officer):
    from portal.models import Beat, Bureau, Station

    far = Bureau(code="T-FAR", name="远分局")
    far_station = Station(code="T-FAR-S", name="远派出所", bureau=far)
    db_session.add_all([far, far_station, Beat(code="T-FAR-1", name="远警务区", station=far_station)])
    db_session.commit()
    stranger = factories.make_user(db_session, role="officer", station=far_station)
    boss = factories.make_user(db_session, role="admin", station=district.stations[1])
    c = factories.english(FormClient(app.test_client()))
    c.sign_in(boss.phone, factories.PASSWORD, totp_secret=boss.totp_secret)
    assert c.get(f"/admin/accounts/{officer.id}").status_code == 200  # station 1: the same bureau
    for uid in (stranger.id, 99999999999):
        assert c.get(f"/admin/accounts/{uid}").status_code == 404
    assert _post(c, f"/admin/accounts/{stranger.id}/disable").status_code == 404
    listed = parse(c.get("/admin/")).get_text()
    assert stranger.phone[-4:] + "\n" not in listed
    r = c.submit("/admin/accounts/new", {"role": "officer", "name": "越界", "phone": "13955550009",
                                         "where": "station:T-FAR-S"})
    assert "Choose one of the stations or beats" in factories.field_error(parse(r), "where")
    r = c.submit("/admin/accounts/new", {"role": "auditor", "name": "越界", "phone": "13955550009", "where": ""})
    assert "Choose the station or beat" in factories.field_error(parse(r), "where")
    with pytest.raises(NotFound):
        staff_accounts.account(db_session, boss, stranger.id)
    assert db_session.scalar(select(func.count()).select_from(User).where(User.phone == "13955550009")) == 0


def test_titles_say_error_when_a_form_on_the_page_has_one(admin_client, db_session, officer, district):
    r = _post(admin_client, f"/admin/accounts/{officer.id}/edit", role="officer", where="beat:NOPE")
    assert r.status_code == 400
    assert parse(r).title.get_text().startswith("Error:")
    r = admin_client.submit(f"/admin/beats/{district.beats[0].id}", {"to_station": ""}, form_index=-1)
    assert parse(r).title.get_text().startswith("Error:")


def test_the_under_attack_notice_names_only_the_accounts_the_administrator_manages(app, db_session, district):
    from datetime import timedelta

    from portal.models.base import utcnow

    now = utcnow()
    mine = factories.make_user(db_session, role="officer", station=district.stations[0], failed_logins=30,
                               last_failed_at=now - timedelta(minutes=1), name="本局民警")
    theirs = factories.make_user(db_session, role="landlord", failed_logins=30,
                                 last_failed_at=now - timedelta(minutes=1), name="外人")
    boss = factories.make_user(db_session, role="admin", station=district.stations[1])
    c = factories.english(FormClient(app.test_client()))
    c.sign_in(boss.phone, factories.PASSWORD, totp_secret=boss.totp_secret)
    notice = parse(c.get("/admin/")).find(id="under-attack").get_text()
    assert mine.name in notice and theirs.name not in notice


def test_accounts_attacked_elsewhere_do_not_push_the_bureaus_own_out_of_its_administrators_notice(app, db_session,
                                                                                                  district):
    """An attacker who, after guessing at an officer's password, guesses at twenty landlords' (or another bureau's
    staff) must not hide that officer from the administrator of the officer's bureau: the notice is limited to
    the accounts the administrator manages before it is cut at its length."""
    from datetime import timedelta

    from portal.models.base import utcnow

    now = utcnow()
    mine = factories.make_user(db_session, role="officer", station=district.stations[0], failed_logins=30,
                               last_failed_at=now - timedelta(minutes=30), name="本局民警")
    for i in range(25):
        factories.make_user(db_session, role="landlord", failed_logins=30,
                            last_failed_at=now - timedelta(minutes=1, seconds=i), name="外人")
    boss = factories.make_user(db_session, role="admin", station=district.stations[1])
    c = factories.english(FormClient(app.test_client()))
    c.sign_in(boss.phone, factories.PASSWORD, totp_secret=boss.totp_secret)
    notice = parse(c.get("/admin/")).find(id="under-attack")
    assert notice is not None and mine.name in notice.get_text()
