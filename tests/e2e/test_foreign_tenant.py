"""In real headless Chromium at 360 px (issue 18, item 1): a landlord reports a passport holder moving in,
with nationality chosen from the list, sex, birth date, visa and its end; a wrong nationality and a visa ending
before the birth are told at their fields with everything typed kept; the check page shows the landlord's own
typing in full. Every page gets axe-core and the tap-target check (tests/e2e/pages.py)."""
from __future__ import annotations

import re

import pytest

from tests.e2e.pages import WidthCheck, assert_no_problem, follow, goto, submit
from tests.e2e.test_resume_and_warnings import screenshot, sign_in

pytestmark = pytest.mark.e2e
PASSPORT = "E90123456"


def test_a_passport_holder_moves_in_at_360_px(live_server, new_phone):
    fits = WidthCheck()
    landlord = new_phone()
    sign_in(landlord, live_server.foreign_landlord_phone, "/landlord/")
    goto(landlord, f"/landlord/houses/{live_server.foreign_house_id}")
    follow(landlord, "main a.button[href$='/move-in']")
    assert landlord.url.endswith("/person/0")
    landlord.select_option("#id_type", "passport")
    landlord.fill("#id_number", PASSPORT)
    landlord.fill("#name", "Hans Müller")
    landlord.fill("#nationality", "Atlantis")
    landlord.select_option("#sex", "M")
    landlord.fill("#birth_date", "1980-02-03")
    landlord.select_option("#visa_kind", "visa_z")
    landlord.fill("#visa_expiry", "1979-12-31")
    fits(landlord, "move-in: a passport holder")
    submit(landlord)
    assert landlord.url.endswith("/person/0")  # told, not sent on
    errors = landlord.locator(".error-summary").inner_text()
    assert "Choose the country from the list" in errors and "The visa cannot end before the date of birth." in errors
    assert landlord.input_value("#name") == "Hans Müller" and landlord.input_value("#birth_date") == "1980-02-03"
    fits(landlord, "move-in: a passport holder, with errors")
    screenshot(landlord, "foreign-errors")
    landlord.fill("#nationality", "Germany")  # as the list offers it
    landlord.fill("#visa_expiry", "2027-12-31")
    submit(landlord)
    assert_no_problem(landlord)
    assert landlord.url.endswith("/another")
    landlord.check("input[name=another][value=no]")
    submit(landlord)
    landlord.fill("#move_in_date", live_server.today)
    submit(landlord)
    assert_no_problem(landlord)
    assert landlord.url.endswith("/check")
    card = landlord.locator("main .card-list").inner_text()
    for shown in (PASSPORT, "Germany (DEU)", "1980-02-03", "Visa Z (work)", "2027-12-31", "Male"):
        assert shown in card
    fits(landlord, "move-in: check your answers, a passport holder")
    screenshot(landlord, "foreign-check")
    submit(landlord, "header form.language-switch button[value=zh_Hans_CN]")  # the same page in Chinese
    card = landlord.locator("main .card-list").inner_text()
    assert "德国" in card and PASSPORT in card and "2027-12-31" in card
    fits(landlord, "move-in: check your answers, a passport holder, in Chinese")
    screenshot(landlord, "foreign-check-zh")
    submit(landlord, "header form.language-switch button[value=en]")
    submit(landlord)
    assert_no_problem(landlord)
    assert re.search(r"/landlord/submissions/\d+/receipt$", landlord.url)


def test_the_hire_form_asks_a_passport_holders_details_at_360_px(live_server, new_phone):
    """The single-hire form is the hire declaration's (a staff-list row's fields); only looked at here, so that
    the roster the full-list warning test counts stays as it is."""
    fits = WidthCheck()
    employer = new_phone()
    sign_in(employer, live_server.list_employer_phone, "/employer/")
    goto(employer, f"/employer/units/{live_server.list_unit_id}/hire")
    group = employer.locator("fieldset#group-foreign")
    for field in ("#id_type", "#nationality", "#birth_date", "#visa_kind", "#visa_expiry"):
        assert group.locator(field).count() == 1
    assert employer.locator("datalist#list-nationality option").count() >= 249
    fits(employer, "hire form with a passport holder's fields")
