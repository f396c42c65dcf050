"""预约通关查询, 口岸工作时间查询 and the timetables in real Chromium, with JavaScript on and off."""
import re

from tests.conftest import browser_login
from tests.test_query import add_drafts, count


def search(page, category, first="2026-11-09", last="2026-11-23", consignee=None):
    page.get_by_label("企业类别").select_option(category)
    if consignee is not None:
        page.get_by_label("收发货人").fill(consignee)
    page.get_by_label("申请时间").fill(first)
    page.locator("#applied_to").fill(last)
    page.get_by_role("button", name="查询", exact=True).click()


def numbers(page):
    return re.findall(r"YTG\d{15}", page.locator("#results-table").inner_text())


def test_query_as_A_and_as_B(page):
    browser_login(page, "demo-consignee")
    page.goto("/query")
    search(page, "A")
    page.get_by_text("总共 0 条记录").wait_for()
    search(page, "B", consignee="1201960456")
    page.get_by_text("总共 6 条记录").wait_for()
    assert len(numbers(page)) == 6
    page.get_by_role("link", name=numbers(page)[0]).click()
    page.wait_for_url(re.compile(r"/apply/\d+$"))
    assert page.get_by_role("button", name="暂存").is_disabled()  # the consignee reads only


def test_16_day_range_is_refused_and_the_form_kept(page):
    browser_login(page, "demo-general")
    page.goto("/query")
    search(page, "A", first="2026-11-01", last="2026-11-17")
    page.get_by_text("申请时间查询范围不能超过15天").wait_for()
    assert page.get_by_label("申请时间").input_value() == "2026-11-01"
    assert page.locator("#applied_to").input_value() == "2026-11-17"
    assert page.get_by_label("企业类别").input_value() == "A"


def test_paging(page, app):
    add_drafts(app, 25)
    browser_login(page, "demo-general")
    page.goto("/query")
    search(page, "A")
    page.get_by_text("总共 33 条记录").wait_for()
    first = numbers(page)
    assert len(first) == 20
    page.get_by_role("link", name="下一页").click()
    page.get_by_text("第 2 / 2 页").wait_for()
    second = numbers(page)
    assert len(second) == 13 and not set(first) & set(second)


def test_batch_delete_two_drafts(page, app):
    browser_login(page, "demo-general")
    page.goto("/query")
    search(page, "A")
    page.get_by_text("总共 8 条记录").wait_for()
    rows = page.locator("#results-table tbody tr")
    submitted = rows.filter(has_text="申报").filter(has_not_text="暂存").first
    assert submitted.locator("input[type=checkbox]").count() == 0  # a submitted row cannot be ticked
    boxes = page.locator("input[name=ids]")
    assert boxes.count() == 2
    boxes.nth(0).check()
    boxes.nth(1).check()
    if page.js_enabled:
        assert page.locator("#selected-count").inner_text() == "已选择2项"
        page.once("dialog", lambda dialog: dialog.accept())
    before = count(app)
    page.get_by_role("button", name="批量删除").click()
    if not page.js_enabled:  # no confirm() without JavaScript: a page lists the two and asks
        page.get_by_role("button", name="确定删除").click()
    page.get_by_text("已删除2项暂存申请").wait_for()
    assert count(app) == before - 2
    assert page.locator("input[name=ids]").count() == 0


def test_port_hours_over_national_day(page):
    page.goto("/port-hours")
    page.get_by_label("口岸编码").fill("0400")
    page.get_by_label("工作日期").fill("2026-09-28")
    page.locator("#date_to").fill("2026-10-12")
    page.get_by_role("button", name="查询", exact=True).click()
    page.get_by_text("2026-10-10: 上班时间09:00--- 下班时间16:30").wait_for()
    text = page.locator("#port-hours-results").inner_text()
    assert "2026-10-01" not in text
    assert re.search(r"总共 \d+ 条记录", text)


def test_chongqing_air_import_timetable(page):
    page.goto("/timetables")
    page.get_by_role("link", name=re.compile("航空 · 进口")).click()
    table = page.locator("#tt-air-import")
    table.wait_for()
    assert "航空口岸进口作业时间表" in table.inner_text()
    assert "4小时内完成" in table.locator("tr.total").first.inner_text()
