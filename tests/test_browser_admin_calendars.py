"""Publishing 2027 from the official arrangement in real Chromium (JS on and off), then applying against it (R11, R12)."""
from pathlib import Path

from tests.conftest import browser_login
from tests.test_browser_apply import fill_application

FIXTURE = Path(__file__).parent / "data" / "holiday-cn-2027.json"


def test_site_admin_publishes_2027_and_rules_read_it_at_once(page, tmp_path):
    browser_login(page, "demo-site-admin")
    page.goto("/admin/calendars")
    page.get_by_label("节假日安排文件").set_input_files(str(FIXTURE))
    page.locator("#import-form input[name=ports][value='8000']").check()
    page.get_by_role("button", name="预览变化").click()
    page.get_by_text("新编制 2027 年工作日历").wait_for()
    page.get_by_role("button", name="确认发布").click()
    page.get_by_text("已按国务院节假日安排发布 2027 年工作日历").wait_for()
    assert "尚缺国务院公布" not in page.content()
    page.get_by_role("button", name="退出").click()

    browser_login(page, "demo-general")
    # The adjusted working Sunday (调休) closes at 16:30: an 18:00 appointment counts from then (R12).
    page.goto("/apply/new")
    fill_application(page, tmp_path, start_date="2027-01-31", start_hour="18")
    page.get_by_role("button", name="上传PDF").click()
    page.get_by_text("暂存成功").wait_for()
    deadline = page.locator("#deadline").inner_text()
    assert "最迟提交时间 2027-01-31 08:30" in deadline and "2027-01-31 16:30" in deadline
    assert "暂定" not in deadline

    # 元旦 evening is not working time once the arrangement is published (R11).
    page.goto("/apply/new")
    fill_application(page, tmp_path, start_date="2027-01-01", start_hour="20")
    page.get_by_role("button", name="提交").click()
    page.get_by_text("申报成功").wait_for()
