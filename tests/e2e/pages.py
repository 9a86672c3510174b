"""What the browser tests share: page steps that check every answer, the 360 px width check, and the checks
every page gets as soon as it is reached: axe-core's WCAG 2.2 AA rules and tap targets of 44 by 44 px."""
from __future__ import annotations

import re
import subprocess
from functools import cache
from urllib.parse import urldefrag

from stdnum.cn import ric

from tests.e2e.conftest import PHONE, ROOT

NARROW = {"width": 360, "height": 800}
RECEIPT_SCREENSHOT = "/tmp/e2e-receipt.png"  # noqa: S108 - a fixed place to look at it after a run
RECEIPT_NUMBER = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$")

# The innermost elements whose box or content sticks out past the right edge: what makes a page too wide.
OVERFLOW_JS = """(limit) => {
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (!r.width) continue;
    const visible = getComputedStyle(el).overflowX === 'visible';
    const right = visible ? Math.max(r.right, r.left + el.scrollWidth) : r.right;
    if (right > limit + 0.5) wide.push([el, Math.round(right)]);
  }
  return wide.filter(([el]) => !wide.some(([other]) => other !== el && el.contains(other)))
    .slice(0, 8).map(([el, right]) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (typeof el.className === 'string' && el.className.trim()
        ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' right=' + right);
}"""


def resident_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


# --- every page reached: axe-core and tap targets ---------------------------------------------------------

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
CHECKED: set[str] = set()  # the pages (URL without fragment) checked in this run
TAP_TARGETS = ("header a, header button, header summary, main a.button, main button, main .back-link, main .tap, "
               "main a.card-title, main summary")
SMALL_TARGETS_JS = """(selector) => [...document.querySelectorAll(selector)].map(el => {
  const r = el.getBoundingClientRect();
  return [el.outerHTML.slice(0, 90), Math.round(r.width), Math.round(r.height)];
}).filter(([, w, h]) => w > 0 && h > 0 && (w < 44 || h < 44))"""
AXE_RUN_JS = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
    v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(', '));
}"""


@cache
def axe_source() -> str:
    """axe-core from node_modules, never from the network; installed from package-lock.json when missing."""
    if not AXE.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True, timeout=300)  # noqa: S607
    return AXE.read_text(encoding="utf-8")


def check_page(page) -> None:
    """Run axe-core's WCAG 2.2 A and AA rules on the page as it is, and measure its tap targets: once per
    document (a page reached again by a redirect is checked again, it may show something else)."""
    if page.evaluate("() => window.__portalChecked === true"):
        return
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())  # through the DevTools protocol: the page's CSP stays as it is
    violations = page.evaluate(AXE_RUN_JS, WCAG_22_AA)
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(violations)
    small = page.evaluate(SMALL_TARGETS_JS, TAP_TARGETS)
    assert not small, f"tap targets under 44 x 44 px on {page.url}: {small}"
    page.evaluate("() => { window.__portalChecked = true; }")
    CHECKED.add(urldefrag(page.url).url)


def follow(page, selector: str) -> None:
    """Click a link or a form's button and wait for the page it leads to (after any redirect)."""
    with page.expect_navigation() as navigation:
        page.click(selector)
    response = navigation.value
    status = response.status if response else None
    assert response is not None and response.ok, f"{selector} led to {page.url}: HTTP {status}"
    check_page(page)


def submit(page, selector: str = "main button.button[type=submit]") -> None:
    """Press the page's main button (POST, then Post/Redirect/Get)."""
    follow(page, selector)


def goto(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"
    check_page(page)


def reload(page) -> None:
    response = page.reload()
    assert response is not None and response.ok, f"{page.url}: HTTP {response and response.status}"
    check_page(page)


def assert_no_problem(page) -> None:
    summary = page.locator(".error-summary")
    assert summary.count() == 0, f"{page.url}: {summary.inner_text()}"


class WidthCheck:
    """Lays the current page out at 360 px and records it if the document is wider than the screen."""

    def __init__(self) -> None:
        self.checked: list[str] = []
        self.overflowing: list[str] = []

    def __call__(self, page, name: str) -> None:
        check_page(page)
        page.set_viewport_size(NARROW)
        width = page.evaluate("document.documentElement.scrollWidth")
        self.checked.append(name)
        if width > NARROW["width"]:
            culprits = page.evaluate(OVERFLOW_JS, NARROW["width"])
            self.overflowing.append(f"{name} ({page.url}): scrollWidth {width}; {culprits}")
            print("scrolls sideways at 360 px:", self.overflowing[-1])  # shown even if a later step fails
        page.set_viewport_size(PHONE)


def sign_in_with_code(page, phone: str, password: str, totp) -> None:
    """Sign a staff member in through the pages: phone and password, then a fresh code of their authenticator."""
    goto(page, "/auth/login")
    page.fill("#phone", phone)
    page.fill("#password", password)
    submit(page)
    page.fill("#code", totp.fresh_code())
    submit(page)
    assert_no_problem(page)
