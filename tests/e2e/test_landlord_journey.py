"""End to end in real headless Chromium at phone size (issue 3, item 12).

A landlord signs up, finds the address, registers the house, reports a tenant's move-in and gets a receipt;
an officer signs in with a password and a TOTP code and confirms both reports; the landlord then sees
"confirmed". Along the way every landlord page is also laid out at 360 px and must not scroll sideways.
"""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import PHONE
from tests.e2e.pages import (
    NARROW,
    RECEIPT_NUMBER,
    RECEIPT_SCREENSHOT,
    WidthCheck,
    assert_no_problem,
    follow,
    goto,
    reload,
    resident_id,
    submit,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

def test_landlord_reports_officer_confirms_landlord_sees_it(live_server, new_phone, officer_totp):
    fits = WidthCheck()
    tenant_name = "李小明"
    tenant_id = resident_id("43030219950312005")

    # --- someone without an account scans the door plate ----------------------------------------------
    visitor = new_phone()
    goto(visitor, f"/a/{live_server.address_code}")
    assert visitor.locator("h1").inner_text() == live_server.address_text
    assert visitor.locator("main a.button[href^='/auth/sign-up/landlord']").count() == 1
    fits(visitor, "door plate, signed out")

    # --- the landlord signs up on a phone ------------------------------------------------------------
    landlord = new_phone()
    goto(landlord, "/auth/sign-up/landlord")
    assert landlord.locator("html").get_attribute("lang") == "zh-Hans-CN"  # Chinese unless asked otherwise
    fits(landlord, "sign-up")
    landlord.fill("#name", "张房东")
    landlord.fill("#phone", "13912345678")
    landlord.fill("#id_number", resident_id("43030219800101123"))
    landlord.fill("#password", "violet kettle marches upstream")
    landlord.fill("#confirm_password", "violet kettle marches upstream")
    submit(landlord)
    assert_no_problem(landlord)
    # The same answer whether or not the phone had an account: sign in next (README, "Accounts").
    assert landlord.url == f"{live_server.url}/auth/login"
    landlord.fill("#phone", "13912345678")
    landlord.fill("#password", "violet kettle marches upstream")
    submit(landlord)
    assert landlord.url == f"{live_server.url}/landlord/"
    fits(landlord, "home (no house)")

    # The language button in the header: switch to English, stay on the same page.
    submit(landlord, "header form.language-switch button[value=en]")
    assert landlord.url == f"{live_server.url}/landlord/"
    assert landlord.locator("html").get_attribute("lang") == "en"
    assert landlord.locator("h1").inner_text() == "Your houses"

    # --- finds the address by searching, opens its door-plate page -----------------------------------
    follow(landlord, "main a[href='/landlord/addresses']")
    landlord.fill("main form[role=search] input[name=q]", "银海花园 13栋 4单元 402")
    submit(landlord, "main form[role=search] button[type=submit]")
    results = landlord.locator(".result-list a")
    assert results.count() >= 1, landlord.locator("main").inner_text()
    assert results.first.inner_text() == live_server.address_text
    fits(landlord, "address search with results")

    # --- registers the house: its door-plate page sends a signed-in landlord on to use -> capacity -> ...
    follow(landlord, ".result-list a >> nth=0")
    assert "/use" in landlord.url
    assert landlord.locator("main .caption").inner_text() == live_server.address_text
    fits(landlord, "house: use")
    landlord.check("input[name=use][value=whole_rental]")
    submit(landlord)
    assert_no_problem(landlord)
    assert "/capacity" in landlord.url
    fits(landlord, "house: capacity")
    landlord.fill("#max_occupants", "4")
    landlord.fill("#certificate_no", "湘(2021)湘潭市不动产权第0012345号")
    submit(landlord)
    assert_no_problem(landlord)
    assert "/house-check" in landlord.url
    assert "Whole rental" in landlord.locator("main .summary-list").inner_text()
    fits(landlord, "house: check your answers")
    submit(landlord)
    assert_no_problem(landlord)
    assert re.search(r"/landlord/submissions/\d+/receipt$", landlord.url)
    assert RECEIPT_NUMBER.match(landlord.locator("#receipt-number").inner_text().strip())
    fits(landlord, "house: receipt")
    follow(landlord, "main a[href$='/landlord/']")  # "Your houses"
    fits(landlord, "home (one house)")
    follow(landlord, "main a.card-title")
    house_url = landlord.url
    assert re.search(r"/landlord/houses/\d+$", house_url)
    assert landlord.locator("h1").inner_text() == live_server.address_text
    fits(landlord, "house page")
    house_submission_href = landlord.locator(".submission-list a").first.get_attribute("href")
    house_submission_id = int(house_submission_href.rsplit("/", 1)[1])

    # --- reports a move-in: person -> another? no -> dates -> check -> send ----------------------------
    follow(landlord, "main a.button[href$='/move-in']")
    assert "/person/0" in landlord.url
    fits(landlord, "move-in: person")
    assert landlord.locator("#id_type").input_value() == "resident_id"
    landlord.fill("#id_number", tenant_id)
    landlord.fill("#name", tenant_name)
    landlord.fill("#phone", "13700001111")
    landlord.fill("#occupation", "软件工程师")
    landlord.fill("#workplace", "湘潭市高新区某某科技有限公司")
    submit(landlord)
    assert_no_problem(landlord)
    assert "/another" in landlord.url
    fits(landlord, "move-in: anyone else?")
    landlord.check("input[name=another][value=no]")
    submit(landlord)
    assert_no_problem(landlord)
    assert "/dates" in landlord.url
    fits(landlord, "move-in: dates")
    landlord.fill("#move_in_date", live_server.today)
    submit(landlord)
    assert_no_problem(landlord)
    assert "/check" in landlord.url
    people = landlord.locator("main .card-list").inner_text()
    assert tenant_name in people
    assert "Male" in people and "1995-03-12" in people  # read from the ID number, not typed
    assert tenant_id in people  # the landlord's own typing, in full (masking is for pages others see)
    fits(landlord, "move-in: check your answers")
    submit(landlord)
    assert_no_problem(landlord)
    assert re.search(r"/landlord/submissions/\d+/receipt$", landlord.url)
    receipt_number = landlord.locator("#receipt-number").inner_text().strip()
    assert RECEIPT_NUMBER.match(receipt_number), receipt_number
    assert landlord.locator("main .summary-list dd.status").inner_text() == "Waiting for the police"
    landlord.set_viewport_size(NARROW)
    landlord.screenshot(path=RECEIPT_SCREENSHOT, full_page=True)
    landlord.set_viewport_size(PHONE)
    fits(landlord, "move-in: receipt")
    follow(landlord, "main a[href*='/landlord/submissions/']:not([href$='/receipt'])")
    submission_url = landlord.url
    move_in_id = int(submission_url.rsplit("/", 1)[1])
    fits(landlord, "move-in: submission page")

    # The receipt's public page (behind its QR code) shows the status but nobody's name or ID number.
    public = landlord.context.new_page()
    goto(public, f"/r/{receipt_number.replace('-', '')}")
    public_text = public.locator("main").inner_text()
    assert tenant_name not in public_text and tenant_id not in public_text
    public.close()

    # --- an officer signs in with a password and a TOTP code, confirms both reports -------------------
    officer = new_phone()
    goto(officer, "/auth/login")
    officer.fill("#phone", live_server.officer_phone)
    officer.fill("#password", PASSWORD)
    submit(officer)
    assert_no_problem(officer)
    assert officer.url == f"{live_server.url}/auth/two-factor"
    officer.fill("#code", officer_totp.fresh_code())
    submit(officer)
    assert_no_problem(officer)
    assert officer.url == f"{live_server.url}/officer/"
    follow(officer, "#queue-link")
    assert officer.locator("#open-count").inner_text() == "2"

    for submission_id, expected in ((move_in_id, tenant_name), (house_submission_id, "4")):
        follow(officer, f"table.queue a[href='/officer/items/{submission_id}']")
        assert officer.url == f"{live_server.url}/officer/items/{submission_id}"
        assert expected in officer.locator("main").inner_text()
        officer.check("input[name=action][value=confirmed]")
        submit(officer)
        assert_no_problem(officer)
        assert officer.url == f"{live_server.url}/officer/queue"
        assert officer.locator(".notice-success").count() == 1
        assert officer.locator(f"a[href='/officer/items/{submission_id}']").count() == 0
    assert officer.locator("#open-count").inner_text() == "0"

    # --- the landlord reloads the report and sees it confirmed ---------------------------------------
    assert landlord.url == submission_url
    reload(landlord)
    assert landlord.locator("main .summary-list dd.status").inner_text() in ("Confirmed", "已确认")
    assert landlord.locator("main .summary-list dd.status").inner_text() == "Confirmed"  # English was chosen
    assert landlord.locator("form[action$='/withdraw']").count() == 0  # decided: no withdrawing any more
    fits(landlord, "move-in: submission page, confirmed")
    goto(landlord, house_url)
    assert "Verified by the police" in landlord.locator("main p.caption").inner_text()
    occupant = landlord.locator("main .card-list .card").filter(has_text=tenant_name)
    assert occupant.locator(".status").inner_text() == "Verified by the police"
    fits(landlord, "house page, verified")

    assert not fits.overflowing, "pages that scroll sideways at 360 px:\n" + "\n".join(fits.overflowing)
    assert len(fits.checked) >= 17
