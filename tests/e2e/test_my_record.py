"""A tenant sees who read his record, in real headless Chromium at 360 px: from the privacy notice to the page,
his document, the code the development outbox holds (read with `flask outbox`, as a developer would), and the
list with the date, the station and the reason of the officer's reveal, never the officer (axe-core and tap
targets on every page, tests/e2e/pages.py)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from portal import ROOT
from tests.e2e.pages import WidthCheck, follow, goto, submit

pytestmark = pytest.mark.e2e
SCREENSHOT_PHONE = "/tmp/e2e-my-record-360.png"  # noqa: S108 - a fixed place to look at it after a run


def newest_code(live_server) -> str:
    """The code of the outbox's newest message, printed by `flask outbox` against the live server's database."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{live_server.log.parent / 'portal.sqlite3'}",
           "SECRET_KEY": "e2e-secret-key-not-for-production", "PORTAL_ENV": "development"}
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "portal", "outbox", "--limit", "1"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60, check=True).stdout
    phone, purpose, text = out.strip().split("\t")[1:4]
    assert phone == "13912345603" and purpose == "record_access.code"
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_a_tenant_sees_who_read_his_record_at_360_px(live_server, new_phone):
    fits = WidthCheck()
    tenant = new_phone()
    goto(tenant, "/privacy")
    submit(tenant, "header form.language-switch button[value=en]")
    follow(tenant, "#my-record-link")
    fits(tenant, "the request for a code")
    tenant.fill("#id_number", live_server.access_id_number)
    tenant.fill("#phone", "13912345603")  # the phone on his record
    submit(tenant)
    assert tenant.url.endswith("/my-record/code")
    fits(tenant, "the code page")
    tenant.fill("#code", "000000")
    with tenant.expect_navigation() as wrong:
        tenant.click("main button.button[type=submit]")
    assert wrong.value.status == 400
    assert "This code is wrong" in tenant.locator(".error-summary").inner_text()
    tenant.fill("#code", newest_code(live_server))
    submit(tenant)
    assert tenant.url.endswith("/my-record/list")
    rows = tenant.locator("#access-entries .access-entry")
    assert rows.count() == 1
    text = rows.first.inner_text()
    assert "Your full record was shown to an officer" in text and "测试派出所4" in text
    assert "A case or an incident" in text and "周警官" not in tenant.content()
    fits(tenant, "the list of who read the record")
    tenant.screenshot(path=SCREENSHOT_PHONE, full_page=True)
    submit(tenant, "main button.button-secondary")
    goto(tenant, "/my-record/list")  # ended: back to the start
    assert tenant.url.endswith("/my-record")
