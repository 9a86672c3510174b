"""In real headless Chromium at 360 px: the landlord's home page with a rejection and a site visit (issue 18).

The officer rejects a move-in with a reason and a note and asks for a site visit on the house, with a note;
the landlord's home page lists both first, with the officer's words, and does not scroll sideways."""
from __future__ import annotations

import re

import pytest

from tests.e2e.pages import WidthCheck, assert_no_problem, follow, goto, resident_id, submit
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e
LONG_NOTE = "请于十二月五日晚上七点在家等候民警上门核实房屋情况，并准备好房产证原件和租赁合同原件以便核对。"


def sign_up_and_in(page, phone: str) -> None:
    goto(page, "/auth/sign-up/landlord")
    page.fill("#name", "欧阳房东")
    page.fill("#phone", phone)
    page.fill("#id_number", resident_id("43030219700707123"))
    page.fill("#password", "copper lantern drifts eastward")
    page.fill("#confirm_password", "copper lantern drifts eastward")
    submit(page)
    assert_no_problem(page)
    page.fill("#phone", phone)
    page.fill("#password", "copper lantern drifts eastward")
    submit(page)
    assert page.url.endswith("/landlord/")


def register_house_and_move_in(page, live_server) -> tuple[int, int]:
    goto(page, f"/landlord/houses/new?address={live_server.address_code}")
    page.check("input[name=use][value=shared_rental]")
    submit(page)
    page.fill("#max_occupants", "6")
    submit(page)
    submit(page)
    assert_no_problem(page)
    house_sub = int(re.search(r"/submissions/(\d+)/receipt$", page.url).group(1))
    goto(page, "/landlord/")
    follow(page, "main a.card-title")
    follow(page, "main a.button[href$='/move-in']")
    # Typed in groups, as it is printed on the card: accepted after normalising.
    number = resident_id("43030219960229002")
    page.fill("#id_number", f"{number[:6]} {number[6:14]} {number[14:]}")
    page.fill("#name", "司马相如")
    submit(page)
    assert_no_problem(page)
    page.check("input[name=another][value=no]")
    submit(page)
    page.fill("#move_in_date", live_server.today)
    submit(page)
    submit(page)
    assert_no_problem(page)
    move_in = int(re.search(r"/submissions/(\d+)/receipt$", page.url).group(1))
    return house_sub, move_in


def decide(officer, submission_id: int, action: str, note: str, reason: str | None = None) -> None:
    goto(officer, f"/officer/items/{submission_id}")
    officer.check(f"input[name=action][value={action}]")
    if reason:
        officer.select_option("#reason_code", reason)
    officer.fill("#reason_text", note)
    submit(officer)
    assert_no_problem(officer)


def test_home_page_with_a_rejection_and_a_site_visit_at_360_px(live_server, new_phone, officer_totp):
    landlord = new_phone()
    sign_up_and_in(landlord, "13912340707")
    house_sub, move_in = register_house_and_move_in(landlord, live_server)

    officer = new_phone()
    goto(officer, "/auth/login")
    officer.fill("#phone", live_server.officer_phone)
    officer.fill("#password", PASSWORD)
    submit(officer)
    officer.fill("#code", officer_totp.fresh_code())
    submit(officer)
    decide(officer, move_in, "rejected", "身份证号码与姓名不一致，请核对后重新提交", reason="identity_mismatch")
    decide(officer, house_sub, "site_visit", LONG_NOTE)

    goto(landlord, "/landlord/")
    cards = landlord.locator("#needs-you li.card")
    assert cards.count() == 2
    rejected, visit = cards.nth(0), cards.nth(1)
    assert rejected.get_attribute("data-needs") == "rejected"
    assert "身份证号码与姓名不一致" in rejected.inner_text()
    assert visit.get_attribute("data-needs") == "site_visit"
    assert LONG_NOTE in visit.inner_text().replace("\n", "")
    fits = WidthCheck()
    fits(landlord, "home with a rejection and a site visit")
    assert not fits.overflowing, "\n".join(fits.overflowing)
    # The house says the site visit, not "waiting".
    goto(landlord, "/landlord/")
    follow(landlord, "main a.card-title")
    assert "民警" in landlord.locator("main .notice").inner_text() or "officer" in landlord.locator(
        "main .notice").inner_text()
    fits(landlord, "house page in a site visit")
    # The correction opens from the home page.
    goto(landlord, "/landlord/")
    follow(landlord, f"#needs-you form[action$='/submissions/{move_in}/correct'] button")
    assert landlord.url.endswith("/check")
    fits(landlord, "correction: check your answers")
    assert not fits.overflowing, "\n".join(fits.overflowing)
