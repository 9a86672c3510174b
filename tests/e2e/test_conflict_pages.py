"""Settling two claims on one room in real headless Chromium at 360 px: the officer opens one claim from the
queue, follows the link to the other, rejects it with a reason, confirms the first, and the register's building
and house show one owner (axe-core and tap targets run on every page reached, tests/e2e/pages.py)."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import Totp
from tests.e2e.pages import WidthCheck, follow, goto, sign_in_with_code, submit
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e
SCREENSHOT_PHONE = "/tmp/e2e-conflict-item-360.png"  # noqa: S108 - a fixed place to look at it after a run


def test_settling_a_conflict_at_360_px(live_server, new_phone):
    fits = WidthCheck()
    first, second = live_server.conflict_items
    officer = new_phone()
    sign_in_with_code(officer, live_server.conflict_officer_phone, PASSWORD,
                      Totp(live_server.conflict_officer_totp_secret))
    submit(officer, "header form.language-switch button[value=en]")
    assert officer.locator("#anomaly-counts li[data-kind=conflicting-claims] .anomaly-count").inner_text() == "1"
    follow(officer, "#queue-link")
    assert officer.locator("table.queue tbody tr.queue-item-flagged").count() == 2
    follow(officer, f"table.queue tbody tr a[href='/officer/items/{second}']")
    assert officer.locator("li.flag-claimed_by_another").count() == 1
    claim = officer.locator("#claims li.claim")
    assert claim.count() == 1 and claim.get_attribute("data-standing") == "yes"
    assert "孔房东" not in claim.inner_text()  # the other landlord's name is masked
    fits(officer, "a claim's item")
    officer.set_viewport_size({"width": 360, "height": 800})
    officer.screenshot(path=SCREENSHOT_PHONE, full_page=True)

    # The other claim, linked from this one: its item lists this one in turn.
    follow(officer, "#claims a.claim-item")
    assert officer.url == f"{live_server.url}/officer/items/{first}"
    assert officer.locator(f"#claims a.claim-item[href='/officer/items/{second}']").count() == 1
    fits(officer, "the other claim's item")

    # The register's building: two houses on the room, tagged as a claim to settle.
    goto(officer, f"/officer/register/buildings/{live_server.conflict_building}")
    assert officer.locator("#rooms li.room .house-cell").count() == 2
    assert officer.locator("#rooms li.room .claimed-by-another").count() == 1
    fits(officer, "the building with two claims")

    # Settle it: reject the second claim with a reason, then confirm the first.
    goto(officer, f"/officer/items/{second}")
    officer.check("input[name=action][value=rejected]")
    officer.select_option("#reason_code", "not_the_owner")
    submit(officer)
    assert "Decision saved." in officer.locator(".notice-success").inner_text()
    goto(officer, f"/officer/items/{first}")
    assert "settled" in officer.locator("li.flag-claimed_by_another").inner_text()
    assert officer.locator("#claims li.claim[data-standing=no]").count() == 1
    fits(officer, "the surviving claim, settled")
    officer.check("input[name=action][value=confirmed]")
    submit(officer)
    assert "Decision saved." in officer.locator(".notice-success").inner_text()

    # The register: one owner on the room, no conflict tag; the house page lists the refused claim as settled.
    goto(officer, f"/officer/register/buildings/{live_server.conflict_building}")
    room = officer.locator("#rooms li.room")
    assert room.count() == 1 and room.locator(".house-cell").count() == 1
    assert room.locator(".claimed-by-another").count() == 0
    fits(officer, "the building after settling")
    follow(officer, "#rooms .house-cell a")
    assert officer.locator("#claims li.claim[data-standing=no]").count() == 1
    fits(officer, "the house after settling")

    assert not fits.overflowing, "pages that scroll sideways at 360 px:\n" + "\n".join(fits.overflowing)
