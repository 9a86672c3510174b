"""The officer's queue and quality pages in real headless Chromium at 360 px: cards, no sideways scrolling,
several clean items confirmed at once, the quality page with its charts."""
from __future__ import annotations

import pytest

from portal.services import anomalies
from tests.e2e.pages import WidthCheck, follow, goto, sign_in_with_code, submit
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e
SCREENSHOT_PHONE = "/tmp/e2e-quality-360.png"  # noqa: S108 - fixed places to look at them after a run
SCREENSHOT_DESKTOP = "/tmp/e2e-quality-desktop.png"  # noqa: S108


def test_queue_and_quality_pages_at_360_px(live_server, new_phone, queue_officer_totp):
    fits = WidthCheck()
    officer = new_phone()
    sign_in_with_code(officer, live_server.queue_officer_phone, PASSWORD, queue_officer_totp)
    assert officer.url == f"{live_server.url}/officer/"
    submit(officer, "header form.language-switch button[value=en]")
    # The home page: the queue's count and every anomaly list's, one card each, then the queue.
    assert officer.locator("#open-count").inner_text() == "3"
    assert officer.locator("#anomaly-counts li").count() == len(anomalies.KINDS)  # every list, shared credit codes too
    fits(officer, "officer home")
    assert officer.locator("#anomaly-counts li[data-kind=conflicting-claims] .anomaly-count").inner_text() == "1"
    follow(officer, "#anomaly-counts li[data-kind=conflicting-claims] a")
    assert officer.locator("h1").inner_text() == "One address registered by two reporters"
    assert officer.locator("#anomaly-rows tbody tr").count() == 1
    assert "赵房东" not in officer.locator("main").inner_text()  # reporters' names masked
    fits(officer, "an anomaly list")
    goto(officer, "/officer/")
    follow(officer, "#queue-link")
    assert officer.url == f"{live_server.url}/officer/queue"
    assert officer.locator("#open-count").inner_text() == "3"
    fits(officer, "queue")

    # At 360 px each row is a card: no table header, rows laid out one under another.
    officer.set_viewport_size({"width": 360, "height": 800})
    assert officer.locator("table.queue thead").bounding_box()["height"] <= 1
    boxes = [row.bounding_box() for row in officer.locator("table.queue tbody tr").all()]
    assert all(b["width"] <= 360 for b in boxes)
    assert boxes[0]["y"] + boxes[0]["height"] <= boxes[1]["y"]
    card = officer.locator("table.queue tbody tr").filter(has_text="欧***")
    assert card.count() == 1 and "欧阳修远" not in officer.locator("main").inner_text()
    late = officer.locator("table.queue tbody tr.queue-item-flagged")
    assert late.count() == 1 and late.locator("input[type=checkbox]").count() == 0

    # Tick the clean ones and confirm them with one button.
    boxes = officer.locator("table.queue input[type=checkbox]")
    assert boxes.count() == 2
    for i in range(boxes.count()):
        boxes.nth(i).check()
    submit(officer, "#bulk-confirm button[type=submit]")
    assert "2 items confirmed." in officer.locator(".notice-success").inner_text()
    assert officer.locator("#open-count").inner_text() == "1"
    fits(officer, "queue after confirming two")

    # A filter that finds nothing says so and offers to clear it.
    goto(officer, "/officer/queue?kind=hire")
    assert "No open item matches this filter." in officer.locator("#queue-empty").inner_text()
    fits(officer, "queue, filter finds nothing")
    follow(officer, "#clear-filter")

    follow(officer, "#quality-link")
    assert officer.url == f"{live_server.url}/officer/quality"
    assert officer.locator("svg.chart").count() == 3
    assert "100.0%" in officer.locator("#q-accuracy").inner_text()  # two confirmed, none rejected
    fits(officer, "quality")
    officer.set_viewport_size({"width": 360, "height": 800})
    officer.screenshot(path=SCREENSHOT_PHONE, full_page=True)
    officer.set_viewport_size({"width": 1280, "height": 900})
    officer.screenshot(path=SCREENSHOT_DESKTOP, full_page=True)
    officer.fill("input[name=from]", "2026-03-10")
    officer.fill("input[name=to]", "2026-03-01")
    with officer.expect_navigation() as navigation:
        officer.click("main form.filters button[type=submit]")
    assert navigation.value.status == 400  # the form again, with the message: not a 500
    assert "The period must end on or after the day it starts." in officer.locator(".error-summary").inner_text()
    fits(officer, "quality, bad period")
    follow(officer, "a.back-link")
    follow(officer, "table.queue tbody tr a[href^='/officer/items/']")
    fits(officer, "item")

    assert not fits.overflowing, "pages that scroll sideways at 360 px:\n" + "\n".join(fits.overflowing)
