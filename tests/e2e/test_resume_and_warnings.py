"""In real headless Chromium at phone size (issue 18, items 2, 3 and 6): a landlord's move-in left half-done is
offered again and resumed; an employer's "complete" list that leaves most of the roster out warns with the
names and is sent only once confirmed. Every page is laid out at 360 px and must not scroll sideways; every
page gets axe-core's WCAG 2.2 AA rules and the 44 px tap-target check (tests/e2e/pages.py)."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import PHONE
from tests.e2e.live_server import STAFF_NAMES
from tests.e2e.pages import NARROW, WidthCheck, assert_no_problem, check_page, follow, goto, resident_id, submit
from tests.factories import PASSWORD, staff_csv

pytestmark = pytest.mark.e2e
TENANT = "上官婉儿"
SCREENSHOTS = "/tmp/e2e-{}.png"  # noqa: S108 - a fixed place to look at them after a run


def sign_in(page, phone: str, home: str) -> None:
    goto(page, "/auth/login")
    page.fill("#phone", phone)
    page.fill("#password", PASSWORD)
    submit(page)
    assert_no_problem(page)
    assert page.url.endswith(home), page.url
    # In English: the account remembers its language, so an earlier test may have chosen it already.
    if page.locator("header form.language-switch button[value=en]").count():
        submit(page, "header form.language-switch button[value=en]")
    assert page.locator("html").get_attribute("lang") == "en"


def screenshot(page, name: str) -> None:
    page.set_viewport_size(NARROW)
    page.screenshot(path=SCREENSHOTS.format(name), full_page=True)
    page.set_viewport_size(PHONE)


def test_a_move_in_left_half_done_is_offered_again_and_resumed_at_360_px(live_server, new_phone):
    fits = WidthCheck()
    landlord = new_phone()
    sign_in(landlord, live_server.draft_landlord_phone, "/landlord/")
    house = f"/landlord/houses/{live_server.draft_house_id}"

    goto(landlord, house)
    follow(landlord, "main a.button[href$='/move-in']")
    assert landlord.url.endswith("/person/0")
    landlord.fill("#id_number", resident_id("43030219970315002"))
    landlord.fill("#name", TENANT)
    submit(landlord)
    assert_no_problem(landlord)
    assert landlord.url.endswith("/another")
    draft_root = landlord.url.rsplit("/", 1)[0]

    # Interrupted: back home later. The report is listed, with the name typed.
    goto(landlord, "/landlord/")
    card = landlord.locator("#unfinished li.card-draft")
    assert card.count() == 1 and TENANT in card.inner_text()
    fits(landlord, "home with an unfinished move-in")
    screenshot(landlord, "unfinished-home")
    submit(landlord, "header form.language-switch button[value=zh_Hans_CN]")
    assert landlord.locator("#unfinished h2").inner_text() == "尚未提交"
    fits(landlord, "home with an unfinished move-in, in Chinese")
    submit(landlord, "header form.language-switch button[value=en]")

    # Tapping "report a move-in" again offers it instead of an empty form.
    goto(landlord, house)
    assert TENANT in landlord.locator("#unfinished").inner_text()
    fits(landlord, "house page with an unfinished move-in")
    follow(landlord, "main a.button[href$='/move-in']")
    assert landlord.locator("h1").inner_text() == "Continue your unfinished report?"
    fits(landlord, "continue your unfinished report?")
    follow(landlord, "#unfinished a.button")
    assert landlord.url == f"{draft_root}/another"
    landlord.check("input[name=another][value=no]")
    submit(landlord)
    landlord.fill("#move_in_date", live_server.today)
    submit(landlord)
    assert_no_problem(landlord)
    assert landlord.url == f"{draft_root}/check"
    assert TENANT in landlord.locator("main .card-list").inner_text()
    fits(landlord, "check your answers of the resumed move-in")

    # A second one, begun and discarded: asked first, then gone.
    goto(landlord, f"{house}/move-in?new=1")
    landlord.fill("#id_number", resident_id("43030219980416002"))
    landlord.fill("#name", "欧阳克")
    submit(landlord)
    goto(landlord, "/landlord/")
    assert landlord.locator("#unfinished li.card-draft").count() == 2
    follow(landlord, "#unfinished li.card-draft:has-text('欧阳克') a[href$='/discard']")
    assert landlord.locator("h1").inner_text() == "Discard this unfinished report?"
    fits(landlord, "discard this unfinished report?")
    submit(landlord, "main form[action$='/discard'] button[type=submit]")
    assert landlord.locator(".notice").first.inner_text().startswith("The unfinished report was discarded")
    goto(landlord, "/landlord/")
    assert landlord.locator("#unfinished li.card-draft").count() == 1

    # Finished: sent, and no longer listed.
    goto(landlord, f"{draft_root}/check")
    submit(landlord)
    assert re.search(r"/landlord/submissions/\d+/receipt$", landlord.url), landlord.url
    goto(landlord, "/landlord/")
    assert landlord.locator("#unfinished").count() == 0

    assert not fits.overflowing, "pages that scroll sideways at 360 px:\n" + "\n".join(fits.overflowing)
    assert len(fits.checked) == 6


def test_a_full_list_that_leaves_most_people_out_warns_with_their_names_at_360_px(live_server, new_phone,
                                                                                tmp_path):
    fits = WidthCheck()
    employer = new_phone()
    sign_in(employer, live_server.list_employer_phone, "/employer/")
    ids = live_server.staff_ids
    # The rows that had errors, fixed and uploaded alone as "the full list" (the trap of issue 18), and one
    # row still wrong.
    rows = [[STAFF_NAMES[0], "", ids[0], "", "店员", "2024-03-05"],
            [STAFF_NAMES[1], "", ids[1], "", "店员", "2024-03-05"],
            ["慕容复", "", "4.30302E+17", "", "保安", "2024-06-01"]]
    staff_file = tmp_path / "改好的行.csv"
    staff_file.write_bytes(staff_csv(rows))
    goto(employer, f"/employer/units/{live_server.list_unit_id}/upload")
    employer.set_input_files("#file", str(staff_file))
    submit(employer)
    assert_no_problem(employer)
    assert re.search(r"/employer/uploads/[^/]+$", employer.url), employer.url
    preview = employer.url

    warning = employer.locator("#departures-warning")
    assert warning.locator("h2").inner_text() == "This list reports 8 people as having left"
    names = [li.split(" · ")[0] for li in warning.locator("ul.departures li").all_inner_texts()]
    assert names == list(STAFF_NAMES[2:])
    # The error row as a card: the row number and the name, each label on one line (not a letter a line).
    employer.set_viewport_size(NARROW)
    card = employer.locator("table.row-errors tbody tr").first
    assert card.locator("td.error-row").inner_text() == "4" and card.locator("td.error-name").inner_text() == "慕容复"
    widths = card.locator("td").evaluate_all("cells => cells.map(c => c.getBoundingClientRect().width)")
    assert min(widths[2:]) > 250, widths  # column and problem span the card
    employer.set_viewport_size(PHONE)
    fits(employer, "preview with the full-list warning")
    screenshot(employer, "full-list-warning")
    submit(employer, "header form.language-switch button[value=zh_Hans_CN]")  # the same page in Chinese
    assert employer.locator("#departures-warning h2").inner_text() == "这份名册将申报 8 人已离职"
    fits(employer, "preview with the full-list warning, in Chinese")
    screenshot(employer, "full-list-warning-zh")
    submit(employer, "header form.language-switch button[value=en]")

    # Sent without the confirmation: refused, with the reason at the box, and nothing sent.
    submit(employer, "main form[action$='/commit'] button[type=submit]")
    assert employer.url.endswith("/commit")
    assert "confirm that they have left" in employer.locator(".error-summary").inner_text()
    fits(employer, "preview, confirmation missing")
    employer.click(".error-summary a[href='#confirm_departures']")  # to the box, on the same page
    employer.check("#confirm_departures")
    submit(employer, "main form[action$='/commit'] button[type=submit]")
    assert_no_problem(employer)
    assert re.search(r"/employer/units/\d+/imports/\d+$", employer.url), employer.url
    assert employer.locator("#totals dd[data-total=departures]").inner_text() == "8"
    fits(employer, "import result")
    assert preview != employer.url

    assert not fits.overflowing, "pages that scroll sideways at 360 px:\n" + "\n".join(fits.overflowing)
    assert len(fits.checked) == 4


def test_the_accessibility_checks_fail_on_a_page_that_breaks_them(live_server, new_phone):
    page = new_phone()
    goto(page, "/auth/login")
    page.evaluate("""() => { window.__portalChecked = false;
        document.querySelector('main').insertAdjacentHTML('beforeend', '<input id="unlabelled">'); }""")
    with pytest.raises(AssertionError, match="label"):
        check_page(page)
    page.evaluate("""() => { window.__portalChecked = false; document.getElementById('unlabelled').remove();
        const a = document.createElement('a');
        a.className = 'tap'; a.href = '/'; a.textContent = 'x'; a.style.minHeight = '0'; a.style.display = 'inline';
        document.querySelector('main').append(a); }""")
    with pytest.raises(AssertionError, match="tap targets"):
        check_page(page)
