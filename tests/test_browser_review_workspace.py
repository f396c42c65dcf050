"""The customs workspace in real Chromium, JavaScript on and off: filter the queue, read an approved application's
numbers and statement, enter a paper application that the enterprise then finds in its query."""
from datetime import datetime

from extensions import db
from models import Application, DeclarationNumber
from rules import APPROVED
from tests.conftest import browser_login, ids_with_status


def test_filter_queue_to_port_8000_and_overdue_feedback_R17(page, app):
    approved = ids_with_status(app, APPROVED)[0]
    with app.app_context():
        # An appointment of 8000 that is now more than five days past with nothing fed back.
        application = db.session.get(Application, approved)
        application.start, application.end = datetime(2026, 11, 16, 18), datetime(2026, 11, 16, 20)
        db.session.commit()
    browser_login(page, "demo-customs")
    page.goto("/review")
    page.get_by_label("口岸").select_option("8000")
    page.get_by_label("状态").select_option("")
    page.get_by_label("逾期未反馈").check()
    page.get_by_role("button", name="查询").click()
    page.wait_for_function("() => /overdue=1/.test(location.search)")
    rows = page.locator("#review-queue tbody tr")
    rows.first.wait_for()
    assert rows.count() == 1 and "通关完成未反馈" in rows.first.inner_text()
    assert page.locator(f"#review-queue a[href='/review/{approved}']").is_visible()


def test_open_an_approved_application_and_see_its_numbers_and_statement(page, app):
    approved = ids_with_status(app, APPROVED)[0]
    with app.app_context():
        application = db.session.get(Application, approved)
        application.declaration_numbers.append(DeclarationNumber(position=1, number="800020261000000123"))
        application.statement_text, application.statement_at = "部分货物延后到港", datetime(2026, 11, 23, 9)
        db.session.commit()
    browser_login(page, "demo-customs")
    page.goto(f"/review/{approved}")
    numbers = page.locator("#fed-back-numbers").inner_text()
    assert "800020261000000123" in numbers and "与报关单记录一致" in numbers
    assert "部分货物延后到港" in page.locator("#statement").inner_text()
    assert "一般信用企业" in page.locator("#application-summary").inner_text()


def test_paper_application_for_demo_general_appears_in_its_query(page, app):
    browser_login(page, "demo-customs")
    page.goto("/review")
    page.get_by_role("link", name="录入纸质申请").click()
    page.get_by_label("纸质申请单编号").fill("渝关纸-2026-088")
    page.get_by_label("申报单位").fill("5001960123")
    page.get_by_label("收发货人").fill("1201960456")
    page.get_by_label("联系人姓名").fill("王五")
    page.get_by_label("联系人手机").fill("13812345678")
    page.get_by_label("预约申报口岸").select_option("8000")
    page.get_by_label("预约进出口岸").select_option("8000")
    page.get_by_label("运输方式").select_option("5")
    page.get_by_label("预约通关时间").fill("2026-11-25")
    page.get_by_label("时", exact=True).select_option("18")
    page.get_by_label("事由类别").select_option("perishable")
    page.get_by_label("预约通关事由").fill("纸质申请：进口冰鲜三文鱼")
    page.get_by_label("进口").check()
    page.get_by_label("商品名称 1", exact=True).fill("蜜枣")
    page.get_by_label("商品HS编码 1", exact=True).fill("2006001000")
    page.get_by_role("button", name="保存并申报").click()
    page.locator("#paper-mark").wait_for()
    number = page.locator("#pre-entry-number").inner_text().split()[0]
    page.get_by_role("button", name="退出").click()

    browser_login(page, "demo-general")
    page.goto("/query?category=A&applied_from=2026-11-23&applied_to=2026-11-23")
    assert page.locator(f"#results-table >> text={number}").is_visible()
