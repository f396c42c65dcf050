"""The application screen (预约申请) through its routes: every refusal path names its rule."""
import io
import re

import pytest
from pypdf import PdfWriter
from sqlalchemy import select

from extensions import db
from models import Application, Attachment
from tests.conftest import csrf_token, ids_with_status
from rules import ACCEPTED, APPROVED, CANCELLED, CLEARED, DRAFT, SUBMITTED

GENERAL_CONSIGNEE = "1201960456"  # 天津华映光电股份有限公司, 一般认证企业
DISHONEST_CODE = "1301960789"


def small_pdf(pages=1):
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# A complete, valid application: Chongqing air import on Wednesday 2026-11-25 18:00 (now is Monday 10:00).
VALID_FIELDS = {
    "consignee_code": GENERAL_CONSIGNEE,
    "contact_name": "张三",
    "contact_mobile": "13812345678",
    "declaration_port": "8000",
    "entry_port": "8000",
    "transport_mode": "5",
    "start_date": "2026-11-25",
    "start_hour": "18",
    "reason_category": "perishable",
    "reason_text": "进口冰鲜三文鱼",
    "direction": "I",
}
VALID_GOODS = [{"name": "蜜枣", "hs_code": "2006001000"}]


def form_data(client, path="/apply/new", **overrides):
    """VALID_FIELDS and VALID_GOODS as the application form posts them, with the page's CSRF token."""
    data = {"csrf_token": csrf_token(client, path), "version": "", **VALID_FIELDS, "action": "save"}
    for i, row in enumerate(VALID_GOODS):
        data.update({f"goods-{i}-name": row["name"], f"goods-{i}-hs_code": row["hs_code"]})
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def stored(app, **where):
    with app.app_context():
        query = select(Application)
        for name, value in where.items():
            query = query.where(getattr(Application, name) == value)
        return db.session.execute(query.order_by(Application.id.desc())).scalars().first()


def demo_id(app, status):
    """The first of demo-general's applications in a status."""
    return ids_with_status(app, status)[0]


def test_the_form_has_every_seed_label(general):
    page = general.get("/apply/new").get_data(as_text=True)
    for label in ("收发货人", "联系人姓名", "联系人手机", "预约申报口岸", "预约进出口岸", "运输方式", "预约通关时间",
                  "预约通关事由", "随附补充材料", "商品HS编码", "商品名称", "预约通关报关单号", "进口", "出口"):
        assert re.search(rf'<label for="[^"]+">{label}</label>', page), label
    assert "<legend" in page and "进出口标识" in page  # the radio pair is a labelled group
    for text in ("预约通关申请单申请编号", "预录入编号", "申请状态", "申报单位", "新增", "暂存", "删除", "取消预约", "提交", "关闭操作", "(0字节)"):
        assert text in page
    assert "5001960123" in page and "91500000MA5U7X0Q0D" in page  # declarant filled from the login


def test_save_assigns_a_pre_entry_number_and_keeps_everything(general, app):
    response = general.post("/apply/new", data=form_data(general))
    assert response.status_code == 303
    application = stored(app, contact_name="张三")
    assert re.fullmatch(r"YTG2026\d{11}", application.pre_entry_number)
    assert application.status == DRAFT
    assert response.location == f"/apply/{application.id}"
    page = general.get(response.location).get_data(as_text=True)
    assert application.pre_entry_number in page and "暂存成功" in page
    for value in ("张三", "13812345678", GENERAL_CONSIGNEE, "2026-11-25", "进口冰鲜三文鱼", "2006001000", "蜜枣"):
        assert value in page
    assert '<option selected value="8000">' in page
    assert "天津华映光电股份有限公司" in page  # the known consignee code filled the other three
    with app.app_context():
        history = db.session.get(Application, application.id).history
        assert [(h.from_status, h.to_status) for h in history] == [(None, DRAFT)]


def test_submit_moves_to_submitted_and_writes_the_audit_trail(general, app):
    response = general.post("/apply/new", data=form_data(general, action="submit"))
    assert response.status_code == 303
    application = stored(app, contact_name="张三")
    assert application.status == SUBMITTED
    assert application.submitted_at.isoformat() == "2026-11-23T10:00:00"
    assert application.end.isoformat() == "2026-11-25T20:00:00"  # R7
    with app.app_context():
        moves = [(h.from_status, h.to_status, h.user.username) for h in db.session.get(Application, application.id).history]
    assert moves == [(None, DRAFT, "demo-general"), (DRAFT, SUBMITTED, "demo-general")]
    page = general.get(response.location).get_data(as_text=True)
    assert "申报成功" in page and "申报" in page
    # After submit: the entry port's published air-import timetable.
    assert "预计通关环节" in page and "4小时内完成" in page


def test_R12_late_submission_shows_the_computed_deadline_and_keeps_every_value(general, app):
    data = form_data(general, action="submit", start_date="2026-11-23", start_hour="18",
                     **{"goods-1-name": "糖渍制橄榄", "goods-1-hs_code": "2006002000"})
    response = general.post("/apply/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "预约时间不满足海关规定的时长，请重新修改时间！" in page
    assert "最迟提交时间 2026-11-23 08:30" in page
    for value in ("张三", "13812345678", "进口冰鲜三文鱼", "蜜枣", "糖渍制橄榄", "2026-11-23"):
        assert value in page
    # The draft is kept (with a number) so nothing typed is lost; it is not submitted.
    assert stored(app, contact_name="张三").status == DRAFT


def test_submit_shows_every_problem_at_once(general, app):
    data = form_data(general, action="submit", contact_mobile="12345", contact_name="", direction="", transport_mode="")
    page = general.post("/apply/new", data=data).get_data(as_text=True)
    assert "请填写联系人姓名" in page
    assert "联系人手机" in page and "12345" in page
    assert "请选择进出口标识" in page and "请选择运输方式" in page


@pytest.mark.parametrize("start_date, start_hour, message", [
    ("2026-11-24", "10", "海关工作时间"),             # R11: inside Tuesday's working hours
    ("2026-11-24", "08", "海关工作时间"),             # R11: 08:00–10:00 overlaps 09:00
    ("2027-01-01", "10", "获取该关区的工作时间表为空"),  # R13: 2027 not published for 8000
    ("2026-11-20", "18", "已经过去"),                # R14
])
def test_R11_R13_R14_refusals_on_submit(general, app, start_date, start_hour, message):
    page = general.post("/apply/new", data=form_data(general, action="submit", start_date=start_date, start_hour=start_hour)).get_data(as_text=True)
    assert message in page


def test_deadline_shows_as_soon_as_ports_and_time_are_chosen(general):
    page = general.post("/apply/new", data=form_data(general, action="refresh")).get_data(as_text=True)
    assert "最迟提交时间 2026-11-25 08:30（申报口岸与进出口岸相同，一般企业" in page
    assert 'value="2026-11-25 20:00"' in page  # R7: end = start + 2 h


def test_R3_dishonest_operator_sees_the_seed_message_and_cannot_save(client, auth, app):
    auth.login("demo-dishonest")
    response = client.get("/apply/new")
    assert response.status_code == 403
    assert "失信企业不允许操作" in response.get_data(as_text=True)
    before = stored(app)
    response = client.post("/apply/new", data=form_data(client))
    assert response.status_code == 400 and "失信企业不允许操作" in response.get_data(as_text=True)
    assert stored(app).id == before.id  # nothing new saved


def test_R3_dishonest_consignee_is_refused_and_nothing_is_saved(general, app):
    before = stored(app)
    page = general.post("/apply/new", data=form_data(general, consignee_code=DISHONEST_CODE)).get_data(as_text=True)
    assert "失信企业不允许操作" in page and "张三" in page
    assert stored(app).id == before.id


@pytest.mark.parametrize("username, message", [("demo-unqualified", "报关资质"), ("demo-overdue", "通关完成未反馈")])
def test_R4_R6_new_application_refused(client, auth, username, message):
    auth.login(username)
    response = client.get("/apply/new")
    assert response.status_code == 403 and message in response.get_data(as_text=True)


def test_another_enterprise_gets_404_and_the_consignee_reads_only(client, auth, app):
    draft_id = demo_id(app, SUBMITTED)
    auth.login("demo-advanced")
    assert client.get(f"/apply/{draft_id}").status_code == 404
    auth.logout()
    auth.login("demo-consignee")
    page = client.get(f"/apply/{draft_id}").get_data(as_text=True)
    assert "进口冷冻罗非鱼" in page and 'name="action" value="save" disabled' in page
    assert '<form method="post" action="/apply/' not in page  # the consignee reads; nothing to post
    assert client.post(f"/apply/{draft_id}", data=form_data(client, path=f"/apply/{draft_id}")).status_code == 404
    assert client.get(f"/apply/{demo_id(app, DRAFT)}").status_code == 404  # a draft stays the declarant's own


def test_two_tabs_saving_the_same_draft_the_second_is_refused(general, app):
    draft_id = demo_id(app, DRAFT)
    path = f"/apply/{draft_id}"
    version = stored(app, id=draft_id).version
    first = form_data(general, path=path, version=str(version), contact_name="第一个标签页")
    second = form_data(general, path=path, version=str(version), contact_name="第二个标签页")
    assert general.post(path, data=first).status_code == 303
    response = general.post(path, data=second)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "已在其他窗口或由其他操作员修改并保存" in page and "第二个标签页" in page
    assert stored(app, id=draft_id).contact_name == "第一个标签页"


def test_R10_upload_keeps_good_files_and_names_the_refused_one(general, app):
    data = form_data(general, action="upload")
    data["attachments"] = [(io.BytesIO(small_pdf()), "发票.pdf"), (io.BytesIO(b"not a pdf at all"), "合同.pdf")]
    response = general.post("/apply/new", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "合同.pdf" in page and "不是PDF文件" in page
    assert "发票.pdf" in page and "张三" in page
    application = stored(app, contact_name="张三")
    with app.app_context():
        assert [a.filename for a in db.session.get(Application, application.id).attachments] == ["发票.pdf"]


def test_R10_sixth_file_is_refused_and_the_five_stay(general, app):
    data = form_data(general, action="upload")
    data["attachments"] = [(io.BytesIO(small_pdf()), f"{i}.pdf") for i in range(5)]
    general.post("/apply/new", data=data, content_type="multipart/form-data")
    application = stored(app, contact_name="张三")
    path = f"/apply/{application.id}"
    data = form_data(general, path=path, action="upload", version=str(application.version))
    data["attachments"] = [(io.BytesIO(small_pdf()), "6.pdf")]
    page = general.post(path, data=data, content_type="multipart/form-data").get_data(as_text=True)
    kept = page.split('id="attachment-list"')[1].split("</table>")[0]
    assert "5" in page and "6.pdf" not in re.sub(r"<input[^>]*>", "", kept)
    assert "文件 6.pdf 未上传" in page  # the refusal names the sixth file
    with app.app_context():
        assert len(db.session.get(Application, application.id).attachments) == 5


def test_files_are_served_only_to_who_may_see_the_application(client, auth, app):
    auth.login("demo-general")
    data = form_data(client, action="submit")  # submitted, so the consignee sees it too
    data["attachments"] = [(io.BytesIO(small_pdf()), "清单.pdf")]
    client.post("/apply/new", data=data, content_type="multipart/form-data")
    application = stored(app, contact_name="张三")
    with app.app_context():
        file_id = db.session.execute(select(Attachment.id).where(Attachment.application_id == application.id)).scalar()
    url = f"/apply/{application.id}/files/{file_id}"
    assert client.get(url).data.startswith(b"%PDF")
    auth.logout()
    auth.login("demo-consignee")
    assert client.get(url).status_code == 200
    auth.logout()
    auth.login("demo-advanced")
    assert client.get(url).status_code == 404


def test_hs_picker_and_goods_rows_without_javascript(general):
    page = general.post("/apply/new", data=form_data(general, action="hs_search", new_hs_code="2006")).get_data(as_text=True)
    assert "商品列表" in page
    for code, name in (("2006001000", "蜜枣"), ("2006002000", "糖渍制橄榄"), ("2006009000", "其他糖渍蔬菜、水果、坚果、果皮")):
        assert code in page and name in page
    page = general.post("/apply/new", data=form_data(general, action="hs_pick", new_hs_code="2006", hs_choice="2006002000")).get_data(as_text=True)
    assert 'id="new_goods_name" name="new_goods_name" size="40" type="text" value="糖渍制橄榄"' in page
    page = general.post("/apply/new", data=form_data(general, action="add_goods", new_hs_code="2006002000", new_goods_name="糖渍制橄榄")).get_data(as_text=True)
    assert 'name="goods-1-hs_code" type="hidden" value="2006002000"' in page
    page = general.post("/apply/new", data=form_data(general, action="copy_goods:0")).get_data(as_text=True)
    assert 'name="goods-1-name" type="hidden" value="蜜枣"' in page
    page = general.post("/apply/new", data=form_data(general, action="delete_goods:0")).get_data(as_text=True)
    assert 'name="goods-0-name"' not in page and "暂无数据" in page


def test_R8_goods_names_over_4000_characters_are_refused(general):
    data = form_data(general, **{"goods-0-name": "枣" * 3999, "goods-1-name": "橄榄", "goods-1-hs_code": "2006002000"})
    page = general.post("/apply/new", data=data).get_data(as_text=True)
    assert "4000" in page and general.post("/apply/new", data=data).status_code == 400


def test_R9_declaration_numbers_by_button_and_the_50_limit(general):
    page = general.post("/apply/new", data=form_data(general, action="add_number", new_declaration_number="800020261000000123")).get_data(as_text=True)
    assert 'name="declaration_numbers-0" type="hidden" value="800020261000000123"' in page
    many = {f"declaration_numbers-{i}": f"8000202610{i:08d}" for i in range(50)}
    response = general.post("/apply/new", data=form_data(general, action="add_number", new_declaration_number="800020261099999999", **many))
    assert response.status_code == 400 and "50" in response.get_data(as_text=True)


def test_R15_delete_only_a_draft(general, app):
    draft_id, submitted_id = demo_id(app, DRAFT), demo_id(app, SUBMITTED)
    token = csrf_token(general, f"/apply/{draft_id}")
    assert general.post(f"/apply/{draft_id}/delete", data={"csrf_token": token}).status_code == 303
    assert stored(app, id=draft_id) is None
    general.post(f"/apply/{submitted_id}/delete", data={"csrf_token": token})
    assert stored(app, id=submitted_id).status == SUBMITTED


def test_R16_cancel_asks_for_confirmation_then_cancels(general, app):
    accepted_id = demo_id(app, ACCEPTED)
    page = general.get(f"/apply/{accepted_id}/cancel").get_data(as_text=True)
    assert "确定取消" in page
    token = csrf_token(general, f"/apply/{accepted_id}/cancel")
    assert general.post(f"/apply/{accepted_id}/cancel", data={"csrf_token": token}).status_code == 200  # not confirmed
    assert stored(app, id=accepted_id).status == ACCEPTED
    general.post(f"/apply/{accepted_id}/cancel", data={"csrf_token": token, "confirm": "yes"})
    assert stored(app, id=accepted_id).status == CANCELLED


def test_R16_submitted_not_yet_accepted_cannot_be_cancelled(general, app):
    submitted_id = demo_id(app, SUBMITTED)
    token = csrf_token(general, f"/apply/{submitted_id}")
    general.post(f"/apply/{submitted_id}/cancel", data={"csrf_token": token, "confirm": "yes"})
    assert stored(app, id=submitted_id).status == SUBMITTED


def test_R19_R20_feedback_checks_then_clears(general, app):
    approved_id = demo_id(app, APPROVED)
    path = f"/apply/{approved_id}"
    token = csrf_token(general, path)
    response = general.post(f"{path}/feedback", data={"csrf_token": token, "declaration_numbers-0": "800020261000000456", "action": "feedback"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "800020261000000456" in page and "收发货人" in page  # R20: other consignee
    response = general.post(f"{path}/feedback", data={"csrf_token": token, "declaration_numbers-0": "800020260000000123", "action": "feedback"})
    assert response.status_code == 400  # R19: export flag on an import application
    response = general.post(f"{path}/feedback", data={"csrf_token": token, "declaration_numbers-0": "800020261000000123", "action": "feedback"})
    assert response.status_code == 303
    assert stored(app, id=approved_id).status == CLEARED


def test_R18_statement_once_after_approval(general, app):
    approved_id = demo_id(app, APPROVED)
    path = f"/apply/{approved_id}"
    page = general.get(path).get_data(as_text=True)
    assert "情况说明" in page
    token = csrf_token(general, path)
    data = {"csrf_token": token, "statement_text": "报关单尚未放行，特此说明", "statement_file": (io.BytesIO(small_pdf()), "说明.pdf")}
    assert general.post(f"{path}/statement", data=data, content_type="multipart/form-data").status_code == 303
    application = stored(app, id=approved_id)
    assert application.statement_text == "报关单尚未放行，特此说明" and application.statement_at is not None
    again = general.post(f"{path}/statement", data={"csrf_token": token, "statement_text": "再说一次"})
    assert again.status_code == 303
    assert "情况说明只能在预约成功后发送一次" in general.get(path).get_data(as_text=True)
    assert stored(app, id=approved_id).statement_text == "报关单尚未放行，特此说明"


def test_R18_no_statement_box_before_approval(general, app):
    page = general.get(f"/apply/{demo_id(app, SUBMITTED)}").get_data(as_text=True)
    assert "发送情况说明" not in page


def test_htmx_requests_carry_the_csrf_token_in_their_header(general):
    page = general.get("/apply/new").get_data(as_text=True)
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)
    data = {k: v for k, v in form_data(general, action="add_number", new_declaration_number="800020261000000123").items() if k != "csrf_token"}
    refused = general.post("/apply/new", data=data, headers={"HX-Request": "true"})
    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    accepted = general.post("/apply/new", data=data, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert accepted.status_code == 200 and 'value="800020261000000123"' in accepted.get_data(as_text=True)


def test_an_hs_code_missing_from_the_catalogue_is_refused_when_added_and_on_submit(general):
    page = general.post("/apply/new", data=form_data(general, action="add_goods", new_hs_code="2006003000", new_goods_name="糖渍菠萝")).get_data(as_text=True)
    assert "2006003000 不在商品归类表中" in page and 'name="goods-1-name"' not in page
    page = general.post("/apply/new", data=form_data(general, action="submit", **{"goods-0-hs_code": "2006003000"})).get_data(as_text=True)
    assert "2006003000 不在商品归类表中" in page


def test_a_good_file_chosen_with_a_refused_save_is_named_not_lost_silently(general, app):
    data = form_data(general, action="upload", contact_mobile="123")
    data["attachments"] = [(io.BytesIO(small_pdf()), "提单.pdf")]
    page = general.post("/apply/new", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "提单.pdf 未保存" in page and "联系人手机 123" in page


def test_R18_refused_statement_keeps_its_text(general, app):
    path = f"/apply/{demo_id(app, APPROVED)}"
    data = {"csrf_token": csrf_token(general, path), "statement_text": "货物延误，特此说明",
            "statement_file": (io.BytesIO(b"not a pdf"), "说明.pdf")}
    page = general.post(f"{path}/statement", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "说明.pdf" in page and "货物延误，特此说明" in page


def test_R15_files_of_a_submitted_application_cannot_be_deleted(general, app):
    data = form_data(general, action="upload")
    data["attachments"] = [(io.BytesIO(small_pdf()), "发票.pdf")]
    general.post("/apply/new", data=data, content_type="multipart/form-data")
    application = stored(app, contact_name="张三")
    path = f"/apply/{application.id}"
    assert general.post(path, data=form_data(general, path=path, action="submit", version=str(application.version))).status_code == 303
    with app.app_context():
        file_id = db.session.get(Application, application.id).attachments[0].id
    response = general.post(path, data=form_data(general, path=path, action=f"delete_file:{file_id}"))
    assert response.status_code == 404
    with app.app_context():
        assert len(db.session.get(Application, application.id).attachments) == 1
