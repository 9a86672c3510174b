"""Browser-test fixtures: the real portal in a subprocess on its own SQLite file, and Debian's Chromium.

The live server runs in another process (tests/e2e/live_server.py) because create_app() binds the global
`portal.extensions.db` to its engine, which would disturb the session-scoped app the other tests share; and
because the browser needs committed data, not the rolled-back test session.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
START_TIMEOUT = 30


@dataclass
class LiveServer:
    url: str
    officer_phone: str
    officer_totp_secret: str
    address_code: str
    address_text: str
    today: str
    log: Path
    queue_officer_phone: str = ""
    queue_officer_totp_secret: str = ""
    draft_landlord_phone: str = ""
    draft_house_id: int = 0
    draft_house_address: str = ""
    list_employer_phone: str = ""
    list_unit_id: int = 0
    staff_ids: tuple = ()
    admin_phone: str = ""
    admin_totp_secret: str = ""
    conflict_officer_phone: str = ""
    conflict_officer_totp_secret: str = ""
    conflict_items: tuple = ()  # (the first claim's registration, the second's)
    conflict_building: int = 0  # the room's address
    foreign_landlord_phone: str = ""
    foreign_house_id: int = 0
    clerk_phone: str = ""
    clerk_totp_secret: str = ""
    duplicate_codes: tuple = ()
    access_id_number: str = ""

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e")
    log = workdir / "server.log"
    env = {**os.environ, "SECRET_KEY": "e2e-secret-key-not-for-production", "PORTAL_ENV": "development",
           "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    with log.open("wb") as log_file:
        database_url = f"sqlite:///{workdir / 'portal.sqlite3'}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.live_server", database_url, str(workdir)], cwd=ROOT,
            env=env, stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.PIPE)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
        line = proc.stdout.readline() if ready else b""
        if not line:
            proc.kill()
            proc.wait()
            pytest.fail(f"the live server did not start (exit code {proc.returncode}):\n"
                        f"{log.read_text(errors='replace')[-4000:]}")
        info = json.loads(line)
        yield LiveServer(url=f"http://127.0.0.1:{info.pop('port')}", log=log, **info)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdin.close()
        proc.stdout.close()


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/ensure-chromium` (never `playwright install`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_phone(browser, live_server):
    """A factory of fresh browser contexts (separate cookies: one per person) with a phone-sized viewport."""
    from urllib.parse import urldefrag

    from tests.e2e import pages

    contexts = []
    visited: list[str] = []  # every document a page of these contexts showed

    def watch(page) -> None:
        def navigated(frame) -> None:
            if frame == page.main_frame and frame.url.startswith(live_server.url):
                visited.append(urldefrag(frame.url).url)
        page.on("framenavigated", navigated)

    def make():
        # Not is_mobile: a mobile viewport zooms out to show content that is too wide, which hides the very
        # overflow the tests look for and moves elements under the pointer after a resize.
        context = browser.new_context(base_url=live_server.url, viewport=PHONE, device_scale_factor=2,
                                      has_touch=True, locale="zh-CN")
        context.set_default_timeout(10_000)
        context.on("page", watch)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    # axe-core and the tap-target check ran on every page the test went to (pages.check_page).
    unchecked = sorted({url for url in visited if url not in pages.CHECKED})
    assert not unchecked, f"pages visited without the accessibility checks: {unchecked}"


class Totp:
    """Codes for an authenticator app; the portal accepts each time step once, so never reuse one."""

    def __init__(self, secret: str) -> None:
        self.totp = pyotp.TOTP(secret)
        self.last_step: int | None = None

    def fresh_code(self) -> str:
        step = int(time.time()) // self.totp.interval
        if self.last_step is not None and step <= self.last_step:
            time.sleep((self.last_step + 1) * self.totp.interval - time.time() + 0.05)
            step = int(time.time()) // self.totp.interval
        self.last_step = step
        return self.totp.at(step * self.totp.interval)


@pytest.fixture(scope="session")
def officer_totp(live_server) -> Totp:
    return Totp(live_server.officer_totp_secret)


@pytest.fixture(scope="session")
def queue_officer_totp(live_server) -> Totp:
    """Station 2's officer's codes, shared by the tests that sign them in: never the same code twice."""
    return Totp(live_server.queue_officer_totp_secret)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, show what the live server logged (tracebacks of 500s, for one)."""
    outcome = yield
    report = outcome.get_result()
    server = item.funcargs.get("live_server") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(server, LiveServer):
        report.sections.append(("live server log (tail)", server.log_tail()))
