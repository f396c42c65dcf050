"""Accessibility in real Chromium at 1024×768, in Chinese and English (issue 12): axe-core reports no serious or
critical violation (contrast, names, labels), every page has one h1, no read-only box takes a tab stop, nothing of
the page's content is cut off, and the skip link reaches the content.

axe-core runs inside the page, so these pages are checked with JavaScript on only; each page is loaded once and
gets every check, which keeps the number of page loads small."""
from pathlib import Path

import pytest

from rules import APPROVED, RETURNED
from tests.conftest import browser_login, ids_with_status, switch_to_english
from tests.layout import SMALL_SCREEN, cut_off

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# The page loads axe-core from its own origin, so the site's Content-Security-Policy (script-src 'self') stays in
# force during the checks; the browser context answers this address from tests/vendor, the site never serves it.
AXE_URL = "/__tests__/axe-core/axe.min.js"

# Functions, not expressions: Playwright evaluates a bare expression with eval, which the CSP refuses.
SERIOUS_VIOLATIONS = r"""async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v =>
    v.impact + ' ' + v.id + ' (' + v.help + '): ' + v.nodes.map(n =>
      n.target.join(' ') + ' — ' + n.failureSummary.replace(/\s+/g, ' ')).join('; '));
}"""
READ_ONLY_TAB_STOPS = """() => Array.from(document.querySelectorAll('input[readonly], textarea[readonly]'))
  .filter(el => el.tabIndex >= 0 && !el.disabled).map(el => el.id || el.name)"""

JS_ON = pytest.mark.parametrize("page", [True], ids=["js-on"], indirect=True)
LANGUAGES = pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
# A search with results, so the table and its 暂定 marks are checked too.
PORT_HOURS = "/port-hours?port_code=8000&date_from=2026-11-23&date_to=2026-12-07"


@pytest.fixture()
def screen(page):
    """The JavaScript-on page at 1024×768, able to load axe-core."""
    page.set_viewport_size(SMALL_SCREEN)
    page.context.route("**" + AXE_URL, lambda route: route.fulfill(path=AXE, content_type="text/javascript"))
    return page


def problems(page):
    """What the page in front of the user gets wrong (an empty list when nothing)."""
    page.add_script_tag(url=AXE_URL)
    found = page.evaluate(SERIOUS_VIOLATIONS)
    headings = page.locator("h1").count()
    if headings != 1:
        found.append(f"{headings} h1 elements, not one")
    found += [f"read-only box {name!r} takes a tab stop" for name in page.evaluate(READ_ONLY_TAB_STOPS)]
    found += [f"cut off: {what}" for what in cut_off(page, "#content")]
    return found


def check_pages(page, paths):
    """Open each path in turn; fail naming every problem of every page."""
    report = []
    for path in paths:
        page.goto(path)
        report += [f"{path}: {problem}" for problem in problems(page)]
    assert not report, "\n" + "\n".join(report)


@JS_ON
@LANGUAGES
def test_public_port_hours_page(screen, english):
    screen.goto(PORT_HOURS)
    if english:
        switch_to_english(screen)
    assert screen.locator("#port-hours-results tbody tr").count() > 1
    check_pages(screen, [PORT_HOURS])


@JS_ON
@LANGUAGES
def test_enterprise_home_application_and_query_pages(screen, app, english):
    """The home page, a new application, an approved (read-only) and a returned one, and the query."""
    approved, returned = ids_with_status(app, APPROVED)[0], ids_with_status(app, RETURNED)[0]
    browser_login(screen, "demo-general")
    if english:
        switch_to_english(screen)
    check_pages(screen, ["/", "/apply/new", f"/apply/{approved}", f"/apply/{returned}", "/query"])


STAFF_SCREENS = {
    "demo-customs": ["/review", "/review/{approved}", "/review/stats", "/load"],
    "demo-site-admin": ["/admin", "/admin/calendars", "/admin/users", "/admin/enterprises"],
}


@JS_ON
@LANGUAGES
@pytest.mark.parametrize("username", STAFF_SCREENS)
def test_officer_and_admin_screens(screen, app, username, english):
    """The review queue, an application under review, the statistics and the load view; the admin index,
    calendars, users and enterprises."""
    approved = ids_with_status(app, APPROVED)[0]
    browser_login(screen, username)
    if english:
        switch_to_english(screen)
    check_pages(screen, [path.format(approved=approved) for path in STAFF_SCREENS[username]])


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_content(page):
    page.goto("/port-hours")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0  # shown while focused
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "content"
    page.keyboard.press("Tab")
    assert page.locator("#content").evaluate("el => el.contains(document.activeElement)")
