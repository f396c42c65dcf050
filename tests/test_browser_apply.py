"""The application screen in real Chromium, each flow with JavaScript on and off."""
import re

from sqlalchemy import select

from extensions import db
from models import Application
from tests.conftest import browser_login
from tests.test_apply import small_pdf
from rules import ACCEPTED, CANCELLED, DRAFT, SUBMITTED


def press_enter_or_click(page, field, button_name):
    """JS on: Enter in the box adds the row; JS off: the twin button does."""
    if page.js_enabled:
        page.locator(field).press("Enter")
    else:
        page.get_by_role("button", name=button_name).click()


def settled(page):
    """Wait until htmx has finished swapping (it moves focus to the autofocus field while settling)."""
    if page.js_enabled:
        # A function, not an expression: Playwright evaluates a bare expression with eval, which the CSP refuses.
        page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def fill_application(page, tmp_path, start_date="2026-11-25", start_hour="18"):
    page.get_by_label("收发货人", exact=True).fill("1201960456")
    if page.js_enabled:
        page.get_by_label("收发货人", exact=True).dispatch_event("change")
    else:
        page.get_by_role("button", name="查询收发货人").click()
    page.wait_for_selector("#consignee_name[value='天津华映光电股份有限公司']")
    page.get_by_label("联系人姓名").fill("王五")
    page.get_by_label("联系人手机").fill("13900001111")
    page.get_by_label("预约申报口岸").select_option("8000")
    page.get_by_label("预约进出口岸").select_option("8000")
    page.get_by_label("运输方式").select_option("5")
    page.get_by_label("预约通关时间", exact=True).fill(start_date)
    page.get_by_label("预约通关时间（时）").select_option(start_hour)
    page.get_by_label("事由类别").select_option("perishable")
    page.get_by_label("预约通关事由", exact=True).fill("冰鲜水产品需当晚通关")
    page.get_by_label("进口", exact=True).check()

    # The HS picker: a 4-digit prefix opens 商品列表; 确定 fills the row.
    if page.js_enabled:
        page.locator("#new_hs_code").press_sequentially("2006")
    else:
        page.locator("#new_hs_code").fill("2006")
        page.get_by_role("button", name="查询商品").click()
    page.get_by_text("其他糖渍蔬菜、水果、坚果、果皮").wait_for()
    settled(page)
    page.get_by_label("2006002000").check()
    page.get_by_role("button", name="确定").click()
    page.wait_for_selector("#new_goods_name[value='糖渍制橄榄']")
    settled(page)
    press_enter_or_click(page, "#new_goods_name", "添加商品")
    page.locator("#goods-table").get_by_text("糖渍制橄榄").wait_for()
    settled(page)

    page.locator("#new_declaration_number").fill("800020261000000123")
    press_enter_or_click(page, "#new_declaration_number", "新增")
    page.locator("#numbers-table").get_by_text("800020261000000123").wait_for()
    settled(page)

    pdf = tmp_path / "装箱单.pdf"
    pdf.write_bytes(small_pdf())
    page.get_by_label("随附补充材料").set_input_files(str(pdf))


def test_fill_upload_save_reopen_submit(page, app, tmp_path):
    browser_login(page, "demo-general")
    page.goto("/apply/new")
    fill_application(page, tmp_path)
    if page.js_enabled:
        # The deadline shows beside the time before anything is submitted (R12).
        assert "最迟提交时间 2026-11-25 08:30" in page.locator("#schedule-info").inner_text()
        assert "字节" in page.locator("#reason-bytes").inner_text() and "(30字节)" in page.locator("#reason-bytes").inner_text()
    page.get_by_role("button", name="上传PDF").click()
    page.get_by_text("暂存成功").wait_for()
    number = page.locator("#pre-entry-number").inner_text()
    assert re.fullmatch(r"YTG2026\d{11}", number)

    page.reload()  # reopen: everything intact
    assert page.get_by_label("联系人姓名").input_value() == "王五"
    assert page.get_by_label("预约申报口岸").input_value() == "8000"
    assert page.get_by_label("预约通关时间", exact=True).input_value() == "2026-11-25"
    assert page.get_by_label("预约通关时间（时）").input_value() == "18"
    assert page.get_by_label("进口", exact=True).is_checked()
    assert page.locator("#goods-table").get_by_text("糖渍制橄榄").is_visible()
    assert page.locator("#numbers-table").get_by_text("800020261000000123").is_visible()
    assert page.get_by_role("link", name="装箱单.pdf").is_visible()
    assert page.locator("#end_time").input_value() == "2026-11-25 20:00"

    page.get_by_role("button", name="提交").click()
    page.get_by_text("申报成功").wait_for()
    assert page.locator("#application-status").inner_text() == "申报"
    with app.app_context():
        application = db.session.execute(select(Application).where(Application.pre_entry_number == number)).scalar_one()
        assert application.status == SUBMITTED
        assert [g.hs_code for g in application.goods] == ["2006002000"]
        assert [a.filename for a in application.attachments] == ["装箱单.pdf"]


def test_late_submission_shows_deadline_and_keeps_values(page, tmp_path):
    browser_login(page, "demo-general")
    page.goto("/apply/new")
    fill_application(page, tmp_path, start_date="2026-11-23", start_hour="18")
    page.get_by_role("button", name="提交").click()
    alert = page.locator("#errors-summary")
    alert.wait_for()
    assert "预约时间不满足海关规定的时长，请重新修改时间！" in alert.inner_text()
    assert "最迟提交时间 2026-11-23 08:30" in alert.inner_text()
    assert page.get_by_label("联系人姓名").input_value() == "王五"
    assert page.get_by_label("联系人手机").input_value() == "13900001111"
    assert page.get_by_label("预约通关事由", exact=True).input_value() == "冰鲜水产品需当晚通关"
    assert page.locator("#goods-table").get_by_text("糖渍制橄榄").is_visible()
    assert page.locator("#numbers-table").get_by_text("800020261000000123").is_visible()


def test_dishonest_enterprise_sees_the_seed_message(page):
    browser_login(page, "demo-dishonest")
    page.goto("/apply/new")
    assert page.get_by_role("alert").filter(has_text="失信企业不允许操作").first.is_visible()
    assert page.get_by_role("button", name="暂存").is_disabled()
    assert page.get_by_role("button", name="提交").is_disabled()


def test_delete_a_draft_after_confirming(page, app):
    from tests.test_apply import demo_id

    draft_id = demo_id(app, DRAFT)
    browser_login(page, "demo-general")
    page.goto(f"/apply/{draft_id}")
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="删除", exact=True).first.click()
    page.get_by_text("已删除暂存申请").wait_for()
    assert questions == (["确定删除该暂存申请吗？删除后不能恢复。"] if page.js_enabled else [])
    with app.app_context():
        assert db.session.get(Application, draft_id) is None


def test_cancel_an_accepted_appointment(page, app):
    from tests.test_apply import demo_id

    accepted_id = demo_id(app, ACCEPTED)
    browser_login(page, "demo-general")
    page.goto(f"/apply/{accepted_id}")
    page.get_by_role("button", name="取消预约").click()
    page.get_by_label("取消原因").fill("货物延误")
    page.get_by_role("button", name="确定取消预约").click()
    page.get_by_text("已取消预约").first.wait_for()
    assert page.locator("#application-status").inner_text() == "已取消"
    with app.app_context():
        application = db.session.get(Application, accepted_id)
        assert application.status == CANCELLED and application.history[-1].note == "货物延误"


def test_a_refused_row_says_why(page):
    browser_login(page, "demo-general")
    page.goto("/apply/new")
    page.locator("#new_declaration_number").fill("12345")
    press_enter_or_click(page, "#new_declaration_number", "新增")
    page.locator("#numbers-block").get_by_text("报关单号 12345 应为18位数字").wait_for()
    settled(page)
    page.locator("#new_hs_code").fill("2006003000")
    page.locator("#new_goods_name").fill("糖渍菠萝")
    settled(page)
    press_enter_or_click(page, "#new_goods_name", "添加商品")
    page.locator("#goods-block").get_by_text("2006003000 不在商品归类表中").wait_for()
    assert page.locator("#new_goods_name").input_value() == "糖渍菠萝"  # what was typed stays
