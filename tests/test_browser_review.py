"""预约审核 in real Chromium, JavaScript on and off: an officer accepts and approves, the enterprise sees it."""
from tests.conftest import browser_login, ids_with_status
from rules import SUBMITTED


def test_officer_accepts_and_approves_then_the_enterprise_can_feed_back(page, app):
    submitted = ids_with_status(app, SUBMITTED)[0]
    browser_login(page, "demo-customs")
    page.get_by_role("link", name="预约审核").first.click()
    page.locator(f"a[href='/review/{submitted}']").click()
    page.get_by_role("button", name="受理").click()
    page.get_by_text("已受理").first.wait_for()
    page.goto(f"/review/{submitted}")
    page.get_by_role("button", name="预约成功").click()
    page.get_by_text("预约成功").first.wait_for()
    page.get_by_role("button", name="退出").click()

    browser_login(page, "demo-general")
    page.goto(f"/apply/{submitted}")
    assert page.locator("#application-status").inner_text() == "预约成功"
    assert page.get_by_role("button", name="保存反馈").is_visible()
    assert page.get_by_role("heading", name="情况说明").is_visible()
