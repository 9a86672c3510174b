"""The officer's register and search in real headless Chromium at 360 px and on a desktop, in English and
Chinese: home -> register -> road -> building -> house -> person, the full record with a reason, search."""
from __future__ import annotations

import pytest

from tests.e2e.pages import WidthCheck, follow, goto, sign_in_with_code, submit
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e
SCREENSHOT_PHONE = "/tmp/e2e-register-house-360.png"  # noqa: S108 - fixed places to look at them after a run
SCREENSHOT_DESKTOP = "/tmp/e2e-register-person-desktop.png"  # noqa: S108


def test_register_and_search_at_360_px(live_server, new_phone, queue_officer_totp):
    fits = WidthCheck()
    officer = new_phone()
    sign_in_with_code(officer, live_server.queue_officer_phone, PASSWORD, queue_officer_totp)
    # Chinese first, then English: both must fit (the language chosen may be remembered from another test).
    follow(officer, "#register-link")
    if officer.locator("header form.language-switch button[value=zh_Hans_CN]").count():
        submit(officer, "header form.language-switch button[value=zh_Hans_CN]")
    assert officer.locator("h1").inner_text() == "登记簿"
    fits(officer, "register, Chinese")
    submit(officer, "header form.language-switch button[value=en]")
    assert officer.locator("h1").inner_text() == "Register"
    fits(officer, "register")
    follow(officer, "#places li a")
    fits(officer, "a road's buildings")
    follow(officer, "#buildings li a")
    assert officer.locator("#rooms li.room").count() >= 1
    fits(officer, "a building's rooms")
    follow(officer, "#export-link")
    assert officer.locator("#export-form input[name=full]").count() == 1
    fits(officer, "export of a building")
    officer.go_back()
    follow(officer, "#rooms .house-cell a")
    assert officer.locator("#occupants li.occupant").count() == 2
    owner = officer.locator("#house-owner").inner_text()
    assert owner.startswith("赵房东 · ") and "****" in owner  # the owner's phone masked
    fits(officer, "house")
    officer.set_viewport_size({"width": 360, "height": 800})
    officer.screenshot(path=SCREENSHOT_PHONE, full_page=True)
    follow(officer, "#occupants li.occupant a")
    assert "*" in officer.locator("#person-id").inner_text()
    fits(officer, "person")
    # No reason: told so, at the field.
    with officer.expect_navigation() as navigation:
        officer.click("#full-record-form button[type=submit]")
    assert navigation.value.status == 400
    assert "Choose why you need the full record." in officer.locator(".error-summary").inner_text()
    fits(officer, "person, no reason")
    officer.check("#full-record-form input[value=site_visit]")
    submit(officer, "#full-record-form button[type=submit]")
    number = officer.locator("#person-id").inner_text()
    assert "*" not in number and len(number) == 18
    fits(officer, "person, full record")
    officer.set_viewport_size({"width": 1280, "height": 900})
    officer.screenshot(path=SCREENSHOT_DESKTOP, full_page=True)

    goto(officer, "/officer/")
    follow(officer, "#search-link")
    officer.fill("input[name=q]", "欧")
    with officer.expect_navigation() as navigation:
        officer.click("main form[role=search] button[type=submit]")
    assert navigation.value.status == 400
    assert "Enter at least 2 characters to search." in officer.locator(".error-summary").inner_text()
    fits(officer, "search, too short")
    officer.fill("input[name=q]", number)
    follow(officer, "main form[role=search] button[type=submit]")
    assert officer.locator("#people-found li").count() == 1
    assert number not in officer.locator("main").inner_text()
    fits(officer, "search, found by ID")
    submit(officer, "header form.language-switch button[value=zh_Hans_CN]")
    assert officer.locator("#people-found li").count() == 1
    fits(officer, "search, Chinese")
    assert not fits.overflowing, "pages that scroll sideways at 360 px:\n" + "\n".join(fits.overflowing)
