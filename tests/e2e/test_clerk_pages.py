"""The address clerk at 360 px in real headless Chromium: finds the seeded duplicates, merges one, and the old
door-plate URL leads to the address that stayed."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import Totp
from tests.e2e.pages import WidthCheck, follow, goto, sign_in_with_code, submit
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


def test_the_clerk_merges_a_seeded_duplicate_and_its_plate_redirects(live_server, new_phone):
    fits = WidthCheck()
    clerk = new_phone()
    clerk.set_viewport_size({"width": 360, "height": 800})
    sign_in_with_code(clerk, live_server.clerk_phone, PASSWORD, Totp(live_server.clerk_totp_secret))
    assert clerk.url == f"{live_server.url}/clerk/"
    submit(clerk, "header form.language-switch button[value=en]")
    assert clerk.locator("h1").inner_text() == "Standard addresses"
    fits(clerk, "clerk home")

    follow(clerk, "#duplicates-link")
    pair = clerk.locator(f"#pairs li.pair[data-second='{live_server.duplicate_codes[0]}']")
    assert pair.count() == 1, clerk.locator("main").inner_text()
    kept, merged = pair.get_attribute("data-first"), pair.get_attribute("data-second")
    # 银海花园 13栋 4单元 402, written once more as 银海花园小区 十三幢 4门 402室.
    assert kept == live_server.address_code
    fits(clerk, "duplicates")

    follow(clerk, f"#pairs li.pair[data-second='{merged}'] a.merge-link")
    assert clerk.locator("h1").inner_text() == "Merge two addresses"
    fits(clerk, "merge")
    clerk.locator("input[name=survivor]").first.check()  # the first of the pair stays
    submit(clerk)
    assert clerk.url.startswith(f"{live_server.url}/clerk/addresses/")
    assert f"its code {merged} leads there now" in clerk.locator(".notice-success").inner_text()
    assert merged in clerk.locator("#aliases").inner_text()
    fits(clerk, "the address that stayed")

    follow(clerk, "#history-link")
    assert "Another address merged into this one" in clerk.locator("#history").inner_text()
    fits(clerk, "history")

    # The old door plate: its page is the address that stayed.
    goto(clerk, f"/a/{merged}")
    assert clerk.url == f"{live_server.url}/a/{kept}"
    assert clerk.locator("h1").inner_text() == live_server.address_text
    fits(clerk, "door plate")
    goto(clerk, "/clerk/duplicates")
    assert clerk.locator(f"#pairs li.pair[data-second='{merged}']").count() == 0
    assert not fits.overflowing, "pages that scroll sideways at 360 px:\n" + "\n".join(fits.overflowing)
