"""The administrator in real headless Chromium at 360 px: a new beat, a new officer in it, and that officer's
first sign-in (one-time password, authenticator set up, own password); then the administrator sees the
officer's session and ends it."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import Totp
from tests.e2e.pages import WidthCheck, assert_no_problem, follow, goto, sign_in_with_code, submit
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e
NEW_OFFICER_PHONE = "13955559001"


def _submit_with_an_error(page) -> None:
    """The form again, with the message, answered 400 (as every form of the portal answers an error)."""
    with page.expect_navigation() as navigation:
        page.click("main button.button[type=submit]")
    assert navigation.value.status == 400


def _new_beat(admin, fits) -> None:
    follow(admin, "#nav-jurisdictions")
    fits(admin, "jurisdictions")
    follow(admin, "#bureaus a.card-title")
    fits(admin, "bureau")
    follow(admin, "#stations a.card-title >> nth=0")
    fits(admin, "station")
    follow(admin, "#new-beat")
    admin.fill("#code", "T-S1-9")
    admin.fill("#name", "")
    _submit_with_an_error(admin)
    assert "Enter a name." in admin.locator(".error-summary").inner_text()
    fits(admin, "new beat, with an error")
    admin.fill("#name", "测试警务区1-9")
    submit(admin)
    assert_no_problem(admin)
    assert admin.locator("h1").inner_text() == "测试警务区1-9"
    fits(admin, "the new beat")
    # The move page of an existing beat's community, and its message for a beat not chosen (nothing moves).
    follow(admin, "a.back-link")
    follow(admin, "#beats a.card-title >> nth=0")
    fits(admin, "a beat with its places")
    follow(admin, "#communities a.tap >> nth=0")
    fits(admin, "move a community")
    _submit_with_an_error(admin)
    assert "Choose the beat to move it to." in admin.locator(".error-summary").inner_text()
    fits(admin, "move, with an error")


def _new_officer(admin, fits) -> str:
    goto(admin, "/admin/jurisdictions")
    follow(admin, "#nav-accounts")
    fits(admin, "accounts")
    follow(admin, "#new-account")
    fits(admin, "new account")
    admin.select_option("#role", "officer")
    admin.fill("#name", "新民警")
    admin.fill("#phone", NEW_OFFICER_PHONE)
    admin.select_option("#where", "beat:T-S1-9")
    submit(admin)
    assert_no_problem(admin)
    fits(admin, "account created")
    initial = admin.locator("#one-time-password").inner_text().strip()
    follow(admin, "#to-account")
    fits(admin, "the account")
    assert "Set up at the next sign-in" in admin.locator("#account-totp").inner_text()
    return initial


def _first_sign_in(officer, initial: str, fits) -> None:
    goto(officer, "/auth/login")
    officer.fill("#phone", NEW_OFFICER_PHONE)
    officer.fill("#password", initial)
    submit(officer)
    assert officer.url.endswith("/auth/enrol")
    fits(officer, "enrol")
    key = officer.locator("#totp-key").inner_text().replace(" ", "")
    officer.fill("#code", Totp(key).fresh_code())
    submit(officer)
    assert officer.url.endswith("/auth/change-password")
    new = "my own pass phrase for the new beat"
    officer.fill("#current_password", initial)
    officer.fill("#new_password", new)
    officer.fill("#confirm_password", new)
    submit(officer)
    assert_no_problem(officer)
    assert officer.url.endswith("/officer/")


def test_admin_creates_a_beat_and_an_officer_who_signs_in(live_server, new_phone):
    fits = WidthCheck()
    admin = new_phone()
    sign_in_with_code(admin, live_server.admin_phone, PASSWORD, Totp(live_server.admin_totp_secret))
    assert admin.url == f"{live_server.url}/admin/"
    submit(admin, "header form.language-switch button[value=en]")
    _new_beat(admin, fits)
    initial = _new_officer(admin, fits)
    account_url = admin.url

    officer = new_phone()
    _first_sign_in(officer, initial, fits)

    goto(admin, account_url)
    assert admin.locator("#sessions li.card").count() == 1
    assert "Set up" in admin.locator("#account-totp").inner_text()
    submit(admin, "main form[action$='/end-sessions'] button")
    assert "Every session of the account has ended." in admin.locator(".notice-success").inner_text()
    fits(admin, "the account, sessions ended")
    goto(officer, "/officer/")  # signed out: the login page, not the officer's home
    assert "/auth/login" in officer.url
    assert fits.checked and not fits.overflowing, "\n".join(fits.overflowing)
