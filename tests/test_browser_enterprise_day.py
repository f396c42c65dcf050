"""The enterprise's day in real Chromium at 1024×768 (issue 12): the home page's overdue application, the R11
refusal beside the time, copying a returned application, the printed 申请单, and nothing cut off in either language."""
import io
import re

import pytest
from pypdf import PdfReader

from extensions import db
from models import Application
from tests.conftest import browser_login, ids_with_status, switch_to_english
from tests.layout import SMALL_SCREEN, cut_off


@pytest.fixture()
def small(page):
    page.set_viewport_size(SMALL_SCREEN)
    return page


def changed(page, field, button):
    """What a user does after changing a field: htmx reacts to the change; without JS they press the field's button."""
    if page.js_enabled:
        field.dispatch_event("change")
    else:
        page.get_by_role("button", name=button).click()


def test_home_of_demo_overdue_names_and_links_its_overdue_application(small, app):
    """R6/R17: the home page says what is overdue and links it; the link opens the application."""
    page = small
    browser_login(page, "demo-overdue")
    page.goto("/")
    link = page.locator("#due a").first
    number = link.inner_text()
    assert re.fullmatch(r"YTG\d{15}", number)
    assert "已逾期" in page.locator("#due").inner_text()
    link.click()
    assert page.locator("#pre-entry-number").inner_text().strip() == number


def test_thursday_office_hours_shows_the_R11_refusal_before_submit(small):
    page = small
    browser_login(page, "demo-general")
    page.goto("/apply/new")
    page.get_by_label("预约申报口岸").select_option("8000")
    page.get_by_label("预约进出口岸").select_option("8000")
    page.get_by_label("预约通关时间", exact=True).fill("2026-11-26")  # Thursday
    page.get_by_label("预约通关时间（时）").select_option("10")
    changed(page, page.get_by_label("预约通关时间", exact=True), "计算截止时间")
    box = page.locator("#deadline[role=alert]")
    box.wait_for()
    assert "非工作时间" in box.inner_text() and "最迟提交时间" not in page.locator("#schedule-info").inner_text()


def test_copy_a_returned_application_as_new(small, app):
    page = small
    [returned_id] = ids_with_status(app, "returned")
    browser_login(page, "demo-general")
    page.goto(f"/apply/{returned_id}")
    assert "随附材料不清晰" in page.locator("#return-reason").inner_text()
    page.get_by_role("button", name="复制为新申请").click()
    page.get_by_text("已复制为新申请").wait_for()
    assert page.locator("#application-status").inner_text().strip() == "暂存"
    assert page.locator("#goods-table tbody tr").count() >= 1


def test_printed_form_pdf_has_the_number_ports_window_and_every_goods_line(browser, live_server, app):
    """Chromium's print to PDF of the 预约通关申请单 (print CSS, no JS needed)."""
    [approved_id] = ids_with_status(app, "approved")[:1]
    with app.app_context():
        a = db.session.get(Application, approved_id)
        number, ports = a.pre_entry_number, (a.declaration_port, a.entry_port)
        window = (a.start.strftime("%Y-%m-%d %H:%M"), a.end.strftime("%Y-%m-%d %H:%M"))
        goods = [(g.name, g.hs_code) for g in a.goods]
    context = browser.new_context(base_url=live_server, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    browser_login(page, "demo-general")
    page.goto(f"/apply/{approved_id}/print")
    pdf = page.pdf(format="A4")
    context.close()
    printed = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    squeezed = printed.replace(" ", "")
    assert number in squeezed
    for value in ports + tuple(v.replace(" ", "") for v in window):
        assert value in squeezed, value
    for name, hs_code in goods:
        assert hs_code in squeezed and name.replace(" ", "") in squeezed
    assert "返回申请" not in squeezed  # the screen-only bar is not printed


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
@pytest.mark.parametrize("path, selector", [("/apply/new", "#application-form"), ("/query", "#content form")])
def test_nothing_of_the_form_is_cut_off_at_1024x768(small, english, path, selector):
    page = small
    browser_login(page, "demo-general")
    page.goto(path)
    if english:
        switch_to_english(page)
    assert cut_off(page, selector) == []


@pytest.mark.parametrize("has_mutation_observer", [True, False], ids=["ie11+", "ie10-like"])
def test_htmx_loads_only_where_mutation_observer_exists(browser, live_server, has_mutation_observer):
    """IE10 has no MutationObserver (IE11 has): without it the page keeps its plain forms and loads no htmx."""
    context = browser.new_context(base_url=live_server, locale="zh-CN")
    if not has_mutation_observer:
        context.add_init_script("delete window.MutationObserver;")
    page = context.new_page()
    page.goto("/login")
    loaded = page.evaluate("() => typeof window.htmx !== 'undefined'")
    context.close()
    assert loaded == has_mutation_observer


# The rest of issue 12: the toolbar's one row, the dishonest consignee on lookup, the HS picker's keys, waiting.

def test_toolbar_is_one_row_and_a_dishonest_consignee_is_warned_on_lookup(small):
    """R3: typing a dishonest consignee's code says 失信企业不允许操作 at once (htmx on change, or 查询收发货人)."""
    page = small
    browser_login(page, "demo-general")
    page.goto("/apply/new")
    tops = page.locator("#actions > a, #actions > button").evaluate_all(
        "(els) => els.map(e => Math.round(e.getBoundingClientRect().top))")
    assert len(tops) == 5 and len(set(tops)) == 1  # +新增 暂存 删除 取消预约 提交, side by side
    assert re.fullmatch(r"通知 \(\d+\)", page.locator("#notices-link").inner_text())
    page.get_by_label("联系人姓名").fill("王五")
    page.get_by_label("收发货人", exact=True).fill("1301960789")
    changed(page, page.get_by_label("收发货人", exact=True), "查询收发货人")
    warning = page.locator("#consignee-warning[role=alert]")
    warning.wait_for()
    assert warning.inner_text().startswith("失信企业不允许操作") and "石家庄恒通商贸有限公司" in warning.inner_text()
    assert page.get_by_label("联系人姓名").input_value() == "王五"


def test_hs_picker_enter_opens_the_list_and_arrows_and_enter_pick(small):
    """R8: Enter on a prefix opens 商品列表 (no red errors); with JavaScript, ↓ and Enter pick the second line."""
    page = small
    browser_login(page, "demo-general")
    page.goto("/apply/new")
    box = page.get_by_label("商品HS编码")
    box.fill("2006")
    box.press("Enter")
    page.locator("#hs-2006002000").wait_for()
    assert page.locator("#goods-block .error").count() == 0
    if page.js_enabled:
        box.press("ArrowDown")
        assert page.locator("#hs-2006002000").is_checked()
        box.press("Enter")
    else:
        page.locator("#hs-2006002000").check()
        page.get_by_role("button", name="确定").click()
    page.wait_for_function("() => document.getElementById('new_hs_code').value === '2006002000'")
    assert page.get_by_label("商品名称", exact=True).input_value() == "糖渍制橄榄"
    assert page.locator("#goods-block .error").count() == 0


def test_waiting_disables_buttons_and_says_so(browser, live_server, tmp_path):
    """While an answer is on its way: a helper's button is disabled and the part it redraws marked busy (the answer is
    held until checked); the upload form's buttons are disabled and it says 正在上传 (as the page is left, it notes
    what it showed, read back on the next page). Nothing is timed."""
    from playwright.sync_api import expect
    from tests.test_apply import small_pdf
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=SMALL_SCREEN)
    context.add_init_script("""addEventListener('pagehide', function () {
      var form = document.getElementById('application-form');
      if (!form) return;
      var buttons = Array.prototype.slice.call(form.querySelectorAll('button:not(.default-button)'));
      sessionStorage.setItem('left', JSON.stringify({
        note: document.querySelector('#actions [data-busy-note]').textContent,
        enabled: buttons.filter(function (b) { return !b.disabled; }).map(function (b) { return b.textContent; })}));
    });""")
    page = context.new_page()
    browser_login(page, "demo-general")
    page.goto("/apply/new")
    held = []
    page.route("**/apply/new", lambda route: held.append(route) if route.request.method == "POST" else route.continue_())
    page.get_by_role("button", name="查询收发货人").click()
    expect(page.get_by_role("button", name="查询收发货人")).to_be_disabled()
    expect(page.locator("#consignee-info")).to_have_attribute("aria-busy", "true")
    held.pop().continue_()
    expect(page.get_by_role("button", name="查询收发货人")).to_be_enabled()
    page.unroute("**/apply/new")
    page.get_by_label("联系人姓名").fill("王五")
    pdf = tmp_path / "清单.pdf"
    pdf.write_bytes(small_pdf())
    page.locator("#attachments").set_input_files(str(pdf))
    page.get_by_role("button", name="上传PDF").click()
    page.get_by_text("清单.pdf").first.wait_for()
    left = page.evaluate("() => JSON.parse(sessionStorage.getItem('left'))")
    context.close()
    assert left == {"note": "正在上传，请稍候…", "enabled": []}
