"""What the browser tests share: page steps that check every answer, and the 360 px width check."""
from __future__ import annotations

import re

from stdnum.cn import ric

from tests.e2e.conftest import PHONE

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


def follow(page, selector: str) -> None:
    """Click a link or a form's button and wait for the page it leads to (after any redirect)."""
    with page.expect_navigation() as navigation:
        page.click(selector)
    response = navigation.value
    status = response.status if response else None
    assert response is not None and response.ok, f"{selector} led to {page.url}: HTTP {status}"


def submit(page, selector: str = "main button.button[type=submit]") -> None:
    """Press the page's main button (POST, then Post/Redirect/Get)."""
    follow(page, selector)


def goto(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"


def assert_no_problem(page) -> None:
    summary = page.locator(".error-summary")
    assert summary.count() == 0, f"{page.url}: {summary.inner_text()}"


class WidthCheck:
    """Lays the current page out at 360 px and records it if the document is wider than the screen."""

    def __init__(self) -> None:
        self.checked: list[str] = []
        self.overflowing: list[str] = []

    def __call__(self, page, name: str) -> None:
        page.set_viewport_size(NARROW)
        width = page.evaluate("document.documentElement.scrollWidth")
        self.checked.append(name)
        if width > NARROW["width"]:
            culprits = page.evaluate(OVERFLOW_JS, NARROW["width"])
            self.overflowing.append(f"{name} ({page.url}): scrollWidth {width}; {culprits}")
            print("scrolls sideways at 360 px:", self.overflowing[-1])  # shown even if a later step fails
        page.set_viewport_size(PHONE)
