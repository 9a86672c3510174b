"""End to end in real headless Chromium at phone size: the employer's staff-list journey.

An employer signs up, finds the address, registers a unit and gets a receipt; uploads a staff list saved by
Chinese Excel as CSV (three good rows and one whose ID number Excel turned into 4.30302E+17), sees the
preview count the rows and point at the bad one, and sends the good ones. An officer signs in with a
password and a TOTP code, opens the upload from the queue and confirms all its clean rows at once; the
employer's unit page then lists the three people as verified. Every employer page is also laid out at
360 px and must not scroll sideways.
"""
from __future__ import annotations

import re

import pytest

from tests.e2e.pages import (
    RECEIPT_NUMBER,
    WidthCheck,
    assert_no_problem,
    follow,
    goto,
    submit,
)
from tests.factories import PASSWORD, resident_id, staff_csv

pytestmark = pytest.mark.e2e

USCC = "91110000600037341L"
UNIT_NAME = "湘潭市雨湖区银海餐饮有限公司"
STAFF = [  # name, birth date in the ID number, position, hire date
    ("赵一", "19900214", "厨师", "2024-03-05"),
    ("钱二", "19920530", "服务员", "2024-04-01"),
    ("孙三", "19881111", "收银员", "2024-05-20"),
]
MANGLED_ID = "4.30302E+17"  # what Excel shows for an 18-digit number in a number column


def test_employer_uploads_staff_list_officer_confirms_clean_rows(live_server, new_phone, officer_totp,
                                                                  tmp_path):
    fits = WidthCheck()

    # --- the employer signs up on a phone and switches to English ----------------------------------------
    employer = new_phone()
    goto(employer, "/auth/sign-up/employer")
    fits(employer, "sign-up")
    employer.fill("#name", "周老板")
    employer.fill("#phone", "13612345678")
    employer.fill("#id_number", resident_id("19780606"))
    employer.fill("#password", "amber lantern crosses rivers")
    employer.fill("#confirm_password", "amber lantern crosses rivers")
    submit(employer)
    assert_no_problem(employer)
    # The same answer whether or not the phone had an account: sign in next (README, "Accounts").
    assert employer.url == f"{live_server.url}/auth/login"
    employer.fill("#phone", "13612345678")
    employer.fill("#password", "amber lantern crosses rivers")
    submit(employer)
    assert employer.url == f"{live_server.url}/employer/"
    submit(employer, "header form.language-switch button[value=en]")
    assert employer.url == f"{live_server.url}/employer/"
    assert employer.locator("html").get_attribute("lang") == "en"
    assert employer.locator("h1").inner_text() == "Your units"
    fits(employer, "home (no unit)")

    # --- finds the address by searching ------------------------------------------------------------------
    follow(employer, "main a[href='/employer/addresses']")
    fits(employer, "address search")
    employer.fill("main form[role=search] input[name=q]", "银海花园 13栋 4单元 402")
    submit(employer, "main form[role=search] button[type=submit]")
    results = employer.locator(".result-list a")
    assert results.count() >= 1, employer.locator("main").inner_text()
    assert results.first.inner_text() == live_server.address_text
    fits(employer, "address search with results")

    # --- registers the unit: details -> check -> receipt -------------------------------------------------
    follow(employer, ".result-list a >> nth=0")
    assert re.search(r"/employer/drafts/[^/]+/unit$", employer.url), employer.url
    assert live_server.address_text in employer.locator("main p.caption").inner_text()
    fits(employer, "unit details")
    employer.fill("#name", UNIT_NAME)
    employer.fill("#uscc", USCC)
    employer.check("input[name=unit_type][value=enterprise]")
    employer.fill("#industry", "餐饮")
    employer.fill("#legal_rep_name", "周法人")
    legal_rep_id = resident_id("19750808")
    employer.fill("#legal_rep_id_number", legal_rep_id)
    employer.fill("#contact_name", "吴保卫")
    employer.fill("#contact_phone", "13812345678")
    submit(employer)
    assert_no_problem(employer)
    assert re.search(r"/employer/drafts/[^/]+/unit-check$", employer.url), employer.url
    answers = employer.locator("main .summary-list").inner_text()
    assert UNIT_NAME in answers and USCC in answers and "Enterprise" in answers
    assert legal_rep_id not in answers  # masked
    fits(employer, "unit: check your answers")
    submit(employer)
    assert_no_problem(employer)
    assert re.search(r"/employer/submissions/\d+/receipt$", employer.url), employer.url
    assert RECEIPT_NUMBER.match(employer.locator("#receipt-number").inner_text().strip())
    assert UNIT_NAME in employer.locator("main .summary-list").inner_text()
    assert employer.locator("main .summary-list dd.status").inner_text() == "Waiting for the police"
    fits(employer, "unit: receipt")
    follow(employer, "main a[href*='/employer/units/']")  # "Back to the unit"
    unit_url = employer.url
    assert re.search(r"/employer/units/\d+$", unit_url), unit_url
    assert employer.locator("h1").inner_text() == UNIT_NAME
    assert employer.locator("#staff").inner_text() == "Staff (0)"
    fits(employer, "unit page (no staff)")

    # --- uploads the staff list: 3 good rows and row 5 with a mangled ID number --------------------------
    rows = [[name, "", resident_id(birth), f"1390000{i:04d}", position, hired]
            for i, (name, birth, position, hired) in enumerate(STAFF, start=1)]
    rows.append(["李四", "男", MANGLED_ID, "13900009999", "保安", "2024-06-01"])
    staff_file = tmp_path / "员工名单.csv"
    staff_file.write_bytes(staff_csv(rows))  # UTF-8 with a BOM, as Excel saves "CSV UTF-8"
    follow(employer, "main a.button[href$='/upload']")
    assert employer.url == f"{unit_url}/upload"
    fits(employer, "upload")
    employer.set_input_files("#file", str(staff_file))
    assert employer.locator("#full_list").is_checked()
    submit(employer)
    assert_no_problem(employer)
    assert re.search(r"/employer/uploads/[^/]+$", employer.url), employer.url
    totals = {name: employer.locator(f"#totals dd[data-total={name}]").inner_text()
              for name in ("rows", "valid", "invalid", "hires", "departures", "unchanged")}
    assert totals == {"rows": "4", "valid": "3", "invalid": "1", "hires": "3", "departures": "0",
                      "unchanged": "0"}, totals
    errors = employer.locator("table.row-errors tbody tr")
    assert errors.count() == 1, employer.locator("main").inner_text()
    cells = errors.first.locator("td").all_inner_texts()
    assert cells[:3] == ["5", "李四", "ID number"], cells
    assert cells[3].strip(), "the error gives no reason"
    hires = employer.locator("ul.hires li").all_inner_texts()
    assert [h.split(" · ")[0] for h in hires] == [name for name, *_ in STAFF], hires
    fits(employer, "upload preview")
    submit(employer, "main form[action$='/commit'] button[type=submit]")
    assert_no_problem(employer)
    match = re.search(r"/employer/units/\d+/imports/(\d+)$", employer.url)
    assert match, employer.url
    import_id = int(match.group(1))
    sent = {name: employer.locator(f"#totals dd[data-total={name}]").inner_text()
            for name in ("rows", "hires", "departures", "unchanged", "invalid")}
    assert sent == {"rows": "4", "hires": "3", "departures": "0", "unchanged": "0", "invalid": "1"}, sent
    assert employer.locator("main .submission-list li").count() == 3
    fits(employer, "upload result")

    # --- an officer signs in with a password and a TOTP code, confirms the clean rows of the upload ------
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
    submit(officer, "header form.language-switch button[value=en]")
    assert officer.url == f"{live_server.url}/officer/queue"
    assert officer.locator("html").get_attribute("lang") == "en"
    open_before = int(officer.locator("#open-count").inner_text())
    assert open_before >= 4  # the unit's registration and the three hires (and what other tests left)
    upload_links = officer.locator(f"table.queue a[href='/officer/uploads/{import_id}']")
    assert upload_links.count() == 3, officer.locator("main").inner_text()
    follow(officer, f"table.queue a[href='/officer/uploads/{import_id}'] >> nth=0")
    assert officer.url == f"{live_server.url}/officer/uploads/{import_id}"
    assert officer.locator("h1").inner_text() == UNIT_NAME
    assert officer.locator("table.upload-rows tbody tr").count() == 3
    confirm = officer.locator("main form[action$='/confirm-clean'] button[type=submit]")
    assert confirm.inner_text() == "Confirm all 3 clean rows of this upload"
    submit(officer, "main form[action$='/confirm-clean'] button[type=submit]")
    assert_no_problem(officer)
    assert officer.url == f"{live_server.url}/officer/uploads/{import_id}"
    assert officer.locator(".notice-success").inner_text().strip().endswith("3 rows confirmed.")
    assert officer.locator("#no-clean-rows").count() == 1
    statuses = officer.locator("table.upload-rows tbody tr td:nth-child(3)").all_inner_texts()
    assert statuses == ["Confirmed"] * 3, statuses
    # ... and the unit's own registration, from the upload's page (so that nothing is left open).
    follow(officer, "#upload-summary a[href^='/officer/items/']")
    assert USCC in officer.locator("main").inner_text()
    officer.check("input[name=action][value=confirmed]")
    submit(officer)
    assert_no_problem(officer)
    assert officer.url == f"{live_server.url}/officer/queue"
    assert int(officer.locator("#open-count").inner_text()) == open_before - 4

    # --- the unit and the three people are verified on its page ------------------------------------------
    goto(employer, unit_url)
    assert "Verified by the police" in employer.locator("main p.caption").inner_text()
    assert employer.locator("#staff").inner_text() == "Staff (3)"
    roster = employer.locator("ul.roster li.card")
    assert sorted(roster.locator("strong").all_inner_texts()) == sorted(name for name, *_ in STAFF)
    assert roster.locator(".status").all_inner_texts() == ["Verified by the police"] * 3
    assert roster.locator(".status.status-verified").count() == 3
    imports = employer.locator("ul.imports li").all_inner_texts()
    assert len(imports) == 1 and "3 hires, 0 departures, 0 unchanged, 1 rows with errors" in imports[0], imports
    fits(employer, "unit page (3 staff verified)")

    assert not fits.overflowing, "pages that scroll sideways at 360 px:\n" + "\n".join(fits.overflowing)
    assert len(fits.checked) == 12
