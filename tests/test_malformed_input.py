"""Hostile input on every form and query string never gets a 500 (issue 9, item 6); validation comes before any write.

Each case posts or asks for one malformed value: integers past 64 bits, dates at the ends of the calendar, NUL and
other control characters, values longer than their column, a megabyte of text, unknown codes, out-of-range hours,
negative and non-numeric numbers. The application form refuses with 400, everything typed still in it and a message
that names the field; every other place answers below 500 and writes nothing. Every case runs on SQLite and on
PostgreSQL (one database for the module there: nothing here writes, except what a case asserts it wrote).
"""
import html
import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

import rules
from extensions import db
from models import Application, Enterprise, StatusChange, User
from tests.conftest import Auth, csrf_token, fresh_postgres_site
from tests.test_apply import form_data

BIG = "99999999999999999999"  # past 64 bits
NUL, ESC, BEL = "\x00", "\x1b", "\x07"
MEGA = "鱼" * 350_000  # about 1 MB of UTF-8 in a form; 20 MB is refused the same way, only slower to test
LONG = "鱼" * 20_000  # in a query string: servers refuse a request line much longer than this (414) before the site


@pytest.fixture(scope="module")
def pg_site(postgres_url):
    """The site on one freshly migrated and seeded PostgreSQL database for this module."""
    yield from fresh_postgres_site(postgres_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request):
    """The site on SQLite (a fresh copy per test) and on PostgreSQL."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_site")


def logged_in(site, username="demo-general"):
    client = site.test_client()
    Auth(client).login(username)
    return client


def count(site, model=Application):
    with site.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar()


def first_id(site, status, username="demo-general"):
    with site.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        return db.session.execute(
            select(Application.id).where(Application.declarant_id == user.enterprise_id, Application.status == status)
            .order_by(Application.id)
        ).scalars().first()


def summary(page):
    """The text of the form's error summary (the list of 请修改以下问题)."""
    found = re.search(r'<div class="errors-summary.*?</div>', page, re.S)
    return html.unescape(found.group(0)) if found else ""


# The application form: (field, value, words of the refusal that name the field). "start_date"/"start_hour"
# belong to 预约通关时间; goods rows and declaration numbers are lists.
FORM_CASES = [
    ("consignee_code", "1201960456" + NUL, "收发货人"),
    ("consignee_code", "1201960456" + ESC, "收发货人"),
    ("consignee_code", "1" * 19, "收发货人"),
    ("consignee_code", MEGA, "收发货人"),
    ("contact_name", "张" + NUL + "三", "联系人姓名"),
    ("contact_name", "张" + BEL + "三", "联系人姓名"),
    ("contact_name", "张\n三", "联系人姓名"),
    ("contact_name", "张" * 51, "联系人姓名"),
    ("contact_name", MEGA, "联系人姓名"),
    ("contact_mobile", "1381234567" + NUL, "联系人手机"),
    ("contact_mobile", "1" * 12, "联系人手机"),
    ("contact_mobile", BIG, "联系人手机"),
    ("declaration_port", "9999", "预约申报口岸"),  # well formed, not in the port table (a foreign key)
    ("declaration_port", "80" + NUL + "0", "预约申报口岸"),
    ("declaration_port", "80000", "预约申报口岸"),
    ("declaration_port", "-800", "预约申报口岸"),
    ("entry_port", "9999", "预约进出口岸"),
    ("entry_port", BIG, "预约进出口岸"),
    ("transport_mode", "Q", "运输方式"),
    ("transport_mode", "55", "运输方式"),
    ("transport_mode", NUL, "运输方式"),
    ("start_date", "0001-01-01", "预约通关时间"),
    ("start_date", "9999-12-31", "预约通关时间"),
    ("start_date", "2026-11-25" + NUL, "预约通关时间"),
    ("start_date", "next wednesday", "预约通关时间"),
    ("start_date", BIG, "预约通关时间"),
    ("start_date", "-2026-11-25", "预约通关时间"),
    ("start_hour", "99", "预约通关时间"),  # was saved as 03:00
    ("start_hour", "-1", "预约通关时间"),
    ("start_hour", "x", "预约通关时间"),
    ("start_hour", BIG, "预约通关时间"),
    ("start_hour", "1" + NUL, "预约通关时间"),
    ("reason_category", "junk", "事由类别"),
    ("reason_category", NUL, "事由类别"),
    ("reason_text", "鱼" + NUL + "肉", "预约通关事由"),
    ("reason_text", "鱼" + ESC + "[31m", "预约通关事由"),
    ("reason_text", "鱼" * (rules.MAX_REASON_TEXT_BYTES // 3 + 1), "预约通关事由"),
    ("reason_text", MEGA, "预约通关事由"),
    ("direction", "Z", "进出口标识"),
    ("direction", "I" + NUL, "进出口标识"),
    ("goods-0-name", "蜜" + NUL + "枣", "商品名称"),
    ("goods-0-name", "枣" * 4001, "商品名称"),
    ("goods-0-hs_code", "2006001000" + NUL, "HS编码"),
    ("goods-0-hs_code", BIG, "HS编码"),
    ("goods-0-hs_code", "-200600100", "HS编码"),
    ("declaration_numbers-0", "80002026100000012" + NUL, "报关单号"),
    ("declaration_numbers-0", BIG, "报关单号"),
    ("declaration_numbers-0", "8" * 19, "报关单号"),
]
TYPED_BOXES = {"consignee_code", "contact_name", "contact_mobile", "start_date", "reason_text", "goods-0-name",
               "goods-0-hs_code", "declaration_numbers-0"}


def case_id(case):
    field, value = case[0], case[1]
    shown = value if len(value) <= 12 else f"{value[:6]}…({len(value)})"
    return f"{field}={shown!r}"


@pytest.mark.parametrize("action", ["save", "submit"])
@pytest.mark.parametrize("field, value, label", FORM_CASES, ids=[case_id(c) for c in FORM_CASES])
def test_a_malformed_field_is_refused_by_name_with_the_form_as_typed(site, field, value, label, action):
    client = logged_in(site)
    before = count(site)
    data = form_data(client, action=action, **{"declaration_numbers-0": "800020261000000123"})
    data[field] = value
    response = client.post("/apply/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert label in summary(page)
    if field in TYPED_BOXES:
        assert html.escape(value) in page  # the value itself, to be corrected where it stands
    for other in ("contact_name", "reason_text", "goods-0-name", "consignee_code"):
        if other != field:
            assert html.escape(data[other]) in page
    assert count(site) == before


def test_a_whitespace_only_port_is_a_port_not_chosen(site):
    client = logged_in(site)
    response = client.post("/apply/new", data=form_data(client, declaration_port="   ", entry_port=" \t "))
    assert response.status_code == 303
    with site.app_context():
        saved = db.session.get(Application, int(response.headers["Location"].rsplit("/", 1)[1]))
        assert (saved.declaration_port, saved.entry_port) == (None, None)
    response = client.post("/apply/new", data=form_data(client, action="submit", declaration_port="   "))
    assert response.status_code == 400 and "请选择预约申报口岸" in summary(response.get_data(as_text=True))


def test_an_hour_past_23_is_not_saved_as_another_hour(site):
    client = logged_in(site)
    response = client.post("/apply/new", data=form_data(client, start_hour="27"))
    assert response.status_code == 400 and "预约通关时间" in summary(response.get_data(as_text=True))


def test_the_same_refusals_on_a_stored_draft(site):
    client = logged_in(site)
    draft = first_id(site, rules.DRAFT)
    path = f"/apply/{draft}"
    with site.app_context():
        version = str(db.session.get(Application, draft).version)
    for field, value, label in FORM_CASES[::4]:
        data = form_data(client, path=path, version=version, **{field: value})
        response = client.post(path, data=data)
        assert response.status_code == 400, (field, value)
        assert label in summary(response.get_data(as_text=True)), (field, value)
    with site.app_context():
        assert str(db.session.get(Application, draft).version) == version  # nothing written


# Helper actions (row numbers, picks, entries) on the unsaved form: each answers, none writes.
HELPER_CASES = [
    {"action": "delete_goods:²"},
    {"action": "delete_goods:" + BIG},
    {"action": "delete_goods:-1"},
    {"action": "copy_goods:9999"},
    {"action": "copy_goods:" + BIG},
    {"action": "delete_number:" + BIG},
    {"action": "delete_number:٣"},
    {"action": "delete_file:" + BIG},
    {"action": "delete_file:1"},
    {"action": "save" + NUL},
    {"action": NUL},
    {"action": "x" * 100_000},
    {"action": "hs_pick", "hs_choice": "2006001000" + NUL},
    {"action": "hs_pick", "hs_choice": BIG},
    {"action": "hs_search", "new_hs_code": "2006" + NUL},
    {"action": "hs_search", "new_hs_code": BIG},
    {"action": "hs_search", "new_hs_code": MEGA},
    {"action": "add_goods", "new_hs_code": "2006001000", "new_goods_name": "蜜" + NUL + "枣"},
    {"action": "add_goods", "new_hs_code": "2006001000", "new_goods_name": MEGA},
    {"action": "add_goods", "new_hs_code": BIG, "new_goods_name": "蜜枣"},
    {"action": "add_number", "new_declaration_number": "80002026100000012" + NUL},
    {"action": "add_number", "new_declaration_number": BIG},
    {"action": "add_number", "new_declaration_number": MEGA},
    {"action": "lookup", "consignee_code": "1201960456" + NUL},
    {"action": "lookup", "consignee_code": MEGA},
    {"action": "schedule", "declaration_port": "80" + NUL + "0", "entry_port": "8000"},
    {"action": "schedule", "declaration_port": "9999", "entry_port": "9999"},
    {"action": "schedule", "start_date": "0001-01-01", "start_hour": "00"},
    {"action": "schedule", "start_date": "9999-12-31", "start_hour": "23"},
    {"action": "schedule", "start_hour": "99"},
    {"action": "refresh", "goods-" + BIG + "-name": "蜜枣", "goods-" + BIG + "-hs_code": "2006001000"},
    {"action": "refresh", "goods-99999-name": "蜜枣"},
    {"action": "refresh", "declaration_numbers-" + BIG: "800020261000000123"},
]


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
@pytest.mark.parametrize("fields", HELPER_CASES, ids=[case_id(next(iter(c.items()))) if len(c) == 1 else
                                                      case_id(list(c.items())[-1]) for c in HELPER_CASES])
def test_helper_actions_answer_without_writing(site, fields, htmx):
    client = logged_in(site)
    before = count(site)
    headers = {"HX-Request": "true", "HX-Target": "goods-block"} if htmx else {}
    response = client.post("/apply/new", data=form_data(client, **fields), headers=headers)
    assert response.status_code < 500
    assert count(site) == before


def test_a_control_character_in_a_goods_name_is_refused_when_the_row_is_added(site):
    client = logged_in(site)
    response = client.post("/apply/new", data=form_data(
        client, action="add_goods", new_hs_code="2006001000", new_goods_name="蜜" + NUL + "枣"))
    assert response.status_code == 400 and "商品名称" in summary(response.get_data(as_text=True))


# A draft stored before these checks existed, with a start at the ends of the calendar, still opens.
@pytest.mark.parametrize("start", [datetime(1, 1, 1, 18), datetime(9999, 12, 31, 20)], ids=["0001", "9999"])
def test_a_stored_draft_with_an_absurd_date_opens_and_says_what_to_fix(site, start):
    draft = first_id(site, rules.DRAFT)
    with site.app_context():
        application = db.session.get(Application, draft)
        application.start, application.end = start, start.replace(hour=start.hour + 2)
        db.session.commit()
        version = str(application.version)
    try:
        client = logged_in(site)
        path = f"/apply/{draft}"
        assert client.get(path).status_code == 200
        query = client.get("/query", query_string={"category": "A", "applied_from": "2026-11-09",
                                                   "applied_to": "2026-11-23"})
        assert query.status_code == 200
        response = client.post(path, data=form_data(client, path=path, version=version,
                                                    start_date=start.date().isoformat()))
        assert response.status_code == 400 and "预约通关时间" in summary(response.get_data(as_text=True))
        assert client.post(path, data=form_data(client, path=path, version=version, action="schedule",
                                                start_date=start.date().isoformat())).status_code < 500
    finally:
        with site.app_context():
            application = db.session.get(Application, draft)
            application.start = application.end = None
            db.session.commit()


# Ids in paths: past 64 bits, past PostgreSQL's integer, negative: all are "not found".
@pytest.mark.parametrize("path", [
    f"/apply/{BIG}", f"/apply/{2**31}", f"/apply/{2**63}", "/apply/-1", f"/apply/1/files/{BIG}",
    f"/apply/{BIG}/files/1", f"/apply/{BIG}/cancel",
])
def test_an_id_out_of_range_in_a_path_is_not_found(site, path):
    client = logged_in(site)
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", [f"/apply/{BIG}", f"/apply/{BIG}/delete", f"/apply/{BIG}/cancel",
                                  f"/apply/{BIG}/feedback", f"/apply/{BIG}/statement"])
def test_an_id_out_of_range_in_a_post_is_not_found(site, path):
    client = logged_in(site)
    token = csrf_token(client, "/apply/new")
    assert client.post(path, data={"csrf_token": token, "confirm": "yes"}).status_code == 404


@pytest.mark.parametrize("path", [f"/review/{BIG}", f"/review/{2**31}", f"/review/1/files/{BIG}"])
def test_an_id_out_of_range_for_an_officer_is_not_found(site, path):
    client = logged_in(site, "demo-customs")
    assert client.get(path).status_code == 404


# 预约通关查询: every filter, the page number, the CSV export.
QUERY_CASES = [
    {"page": BIG}, {"page": "-5"}, {"page": "0"}, {"page": "x"}, {"page": str(2**62)}, {"page": NUL},
    {"pre_entry_number": "YTG2026" + NUL}, {"pre_entry_number": LONG}, {"pre_entry_number": BIG},
    {"consignee_code": "1201960456" + NUL}, {"consignee_code": LONG},
    {"category": NUL}, {"category": "Z"}, {"category": LONG},
    {"status": NUL}, {"status": "junk"}, {"status": LONG},
    {"applied_from": "0001-01-01", "applied_to": "0001-01-02"},
    {"applied_from": "9999-12-30", "applied_to": "9999-12-31"},
    {"appointment_from": "9999-12-30", "appointment_to": "9999-12-31"},
    {"appointment_from": "0001-01-01", "appointment_to": "0001-01-01"},
    {"applied_from": "2026-11-23" + NUL, "applied_to": "2026-11-23"},
    {"applied_from": BIG, "applied_to": BIG},
    {"applied_from": "-2026-11-23", "applied_to": "2026-11-23"},
]


@pytest.mark.parametrize("path", ["/query", "/query/export.csv"])
@pytest.mark.parametrize("args", QUERY_CASES, ids=[case_id(list(c.items())[-1]) for c in QUERY_CASES])
def test_query_filters_answer_below_500(site, args, path):
    client = logged_in(site)
    response = client.get(path, query_string={"category": "A", **args})
    assert response.status_code < 500


@pytest.mark.parametrize("args", [
    {"pre_entry_number": "YTG2026" + NUL}, {"pre_entry_number": "YTG" + "2" * 16},
    {"applied_from": "0001-01-01", "applied_to": "0001-01-02"}, {"applied_from": "9999-12-30", "applied_to": "9999-12-31"},
], ids=["pre-entry-NUL", "pre-entry-long", "0001", "9999"])
def test_a_malformed_filter_is_refused_by_name(site, args):
    client = logged_in(site)
    response = client.get("/query", query_string={"category": "A", **args})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert ("预录入编号" if "pre_entry_number" in args else "日期") in page


def test_a_page_past_the_end_shows_the_last_page(site):
    client = logged_in(site)
    response = client.get("/query", query_string={"category": "A", "applied_from": "2026-11-09",
                                                   "applied_to": "2026-11-23", "page": BIG})
    assert response.status_code == 200 and "YTG" in response.get_data(as_text=True)


@pytest.mark.parametrize("ids", [[BIG], ["-1"], ["x"], [NUL], ["²"], [str(2**31)], ["1", BIG]],
                         ids=["big", "negative", "letter", "NUL", "superscript", "int4+1", "mixed"])
def test_batch_delete_with_malformed_ids_deletes_nothing(site, ids):
    client = logged_in(site)
    before = count(site)
    data = {"csrf_token": csrf_token(client, "/query"), "ids": ids, "page": BIG, "category": "A"}
    response = client.post("/query/delete", data=data)
    assert response.status_code == 303
    assert count(site) == before


# 口岸工作时间查询 and the timetables.
PORT_HOURS_CASES = [
    {"port_code": NUL}, {"port_code": "80" + NUL + "0"}, {"port_code": "9999"}, {"port_code": "   "},
    {"port_code": LONG}, {"port_code": BIG}, {"port_code": "-800"},
    {"date_from": "0001-01-01", "date_to": "0001-01-02"}, {"date_from": "9999-12-30", "date_to": "9999-12-31"},
    {"date_from": NUL, "date_to": "2026-11-23"}, {"date_from": BIG, "date_to": BIG},
    {"date_from": "2026-11-23", "date_to": "2026-11-23" + ESC},
]


@pytest.mark.parametrize("args", PORT_HOURS_CASES, ids=[case_id(list(c.items())[-1]) for c in PORT_HOURS_CASES])
def test_port_hours_filters_answer_below_500(site, args):
    client = site.test_client()
    response = client.get("/port-hours", query_string={"date_from": "2026-11-23", "date_to": "2026-11-30", **args})
    assert response.status_code < 500


@pytest.mark.parametrize("args, words", [
    ({"port_code": "80" + NUL + "0"}, "口岸编码"), ({"port_code": LONG}, "口岸编码"),
    ({"date_from": "0001-01-01", "date_to": "0001-01-02"}, "日期"),
], ids=["NUL", "long", "0001"])
def test_a_malformed_port_hours_filter_is_refused_by_name(site, args, words):
    response = site.test_client().get("/port-hours", query_string={"date_from": "2026-11-23", "date_to": "2026-11-30",
                                                                   **args})
    assert response.status_code == 400 and words in response.get_data(as_text=True)


def test_a_whitespace_only_port_code_asks_for_every_port(site):
    response = site.test_client().get("/port-hours", query_string={"port_code": "   ", "date_from": "2026-11-23",
                                                                   "date_to": "2026-11-30"})
    assert response.status_code == 200 and "8000" in response.get_data(as_text=True)


@pytest.mark.parametrize("code", ["%00", "80%000", "9999", "8" * 300, BIG, "%E2%80%AE"])
def test_timetables_of_a_malformed_or_unknown_port_are_not_found(site, code):
    assert site.test_client().get(f"/timetables/{code}").status_code == 404


def test_a_status_not_offered_is_no_filter(site):
    client = logged_in(site)
    response = client.get("/query", query_string={"category": "A", "applied_from": "2026-11-09",
                                                   "applied_to": "2026-11-23", "status": "junk" + NUL})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "YTG" in page and 'name="status" value="junk' not in page


# Login.
@pytest.mark.parametrize("username, password", [
    ("demo-general" + NUL, "demo1234"), (NUL, NUL), ("demo-general", "demo1234" + NUL), ("u" * 65, "demo1234"),
    (MEGA, "demo1234"), ("demo-general", MEGA), ("demo" + ESC + "-general", "demo1234"),
], ids=["user-NUL", "both-NUL", "password-NUL", "user-65", "user-1MB", "password-1MB", "user-ESC"])
def test_login_with_malformed_credentials_is_refused(site, username, password):
    client = site.test_client()
    token = Auth(client).csrf_token_from("/login")
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert 400 <= response.status_code < 500
    assert client.get("/apply/new").status_code == 302  # not logged in


# 情况说明, 取消原因, 报关单号反馈, 退单原因: free text and numbers after the form.
@pytest.mark.parametrize("text, words", [
    ("货物延误" + NUL, "情况说明"), ("货物延误" + ESC, "情况说明"), ("说" * (rules.MAX_STATEMENT_CHARS + 1), "情况说明"),
    (MEGA, "情况说明"),
], ids=["NUL", "ESC", "too-long", "1MB"])
def test_a_malformed_statement_is_refused_and_kept(site, text, words):
    client = logged_in(site)
    approved = first_id(site, rules.APPROVED)
    path = f"/apply/{approved}"
    response = client.post(f"{path}/statement", data={"csrf_token": csrf_token(client, path), "statement_text": text})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and words in summary(page) and html.escape(text) in page
    with site.app_context():
        assert db.session.get(Application, approved).statement_at is None


@pytest.mark.parametrize("note", ["计划变更" + NUL, "计划变更" + ESC, "改" * (rules.MAX_NOTE_CHARS + 1), MEGA],
                         ids=["NUL", "ESC", "too-long", "1MB"])
def test_a_malformed_cancel_note_is_refused_and_kept(site, note):
    client = logged_in(site)
    accepted = first_id(site, rules.ACCEPTED)
    path = f"/apply/{accepted}/cancel"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "confirm": "yes", "note": note})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "取消原因" in page and html.escape(note) in page
    with site.app_context():
        assert db.session.get(Application, accepted).status == rules.ACCEPTED


@pytest.mark.parametrize("fields", [
    {"declaration_numbers-0": "80002026100000012" + NUL}, {"declaration_numbers-0": BIG},
    {"declaration_numbers-0": MEGA}, {"declaration_numbers-" + BIG: "800020261000000456"},
    {"action": "add_number", "new_declaration_number": "80002026100000012" + NUL},
    {"action": "delete_number:" + BIG}, {"action": "delete_number:²"}, {"action": NUL},
], ids=["NUL", "big", "1MB", "big-index", "add-NUL", "delete-big", "delete-superscript", "action-NUL"])
def test_feedback_with_malformed_numbers_answers_without_writing(site, fields):
    client = logged_in(site)
    approved = first_id(site, rules.APPROVED)
    path = f"/apply/{approved}"
    data = {"csrf_token": csrf_token(client, path), "action": "feedback", **fields}
    response = client.post(f"{path}/feedback", data=data)
    assert response.status_code < 500
    with site.app_context():
        assert db.session.get(Application, approved).status == rules.APPROVED


@pytest.mark.parametrize("fields, words", [
    ({"decision": "return", "reason": "材料不清" + NUL}, "审核意见"),
    ({"decision": "return", "reason": "材料不清" + ESC}, "审核意见"),
    ({"decision": "return", "reason": "退" * (rules.MAX_NOTE_CHARS + 1)}, "审核意见"),
    ({"decision": "return", "reason": MEGA}, "审核意见"),
    ({"decision": "accept", "reason": "备注" + NUL}, "审核意见"),
], ids=["NUL", "ESC", "too-long", "1MB", "accept-NUL"])
def test_a_malformed_review_reason_is_refused_and_kept(site, fields, words):
    client = logged_in(site, "demo-customs")
    submitted = first_id(site, rules.SUBMITTED)
    path = f"/review/{submitted}"
    version = re.search(r'name="version" value="(\d+)"', client.get(path).get_data(as_text=True)).group(1)
    history = count(site, StatusChange)
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "version": version, **fields})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and words in page and html.escape(fields["reason"]) in page
    assert count(site, StatusChange) == history


@pytest.mark.parametrize("fields", [{"decision": NUL}, {"decision": MEGA}, {"decision": "accept", "version": BIG},
                                    {"decision": "accept", "version": NUL}], ids=["NUL", "1MB", "version-big", "version-NUL"])
def test_malformed_review_decisions_change_nothing(site, fields):
    client = logged_in(site, "demo-customs")
    submitted = first_id(site, rules.SUBMITTED)
    path = f"/review/{submitted}"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": "", **fields})
    assert 400 <= response.status_code < 500
    with site.app_context():
        assert db.session.get(Application, submitted).status == rules.SUBMITTED


def test_known_enterprise_lookup_ignores_what_cannot_be_a_code(site):
    with site.app_context():
        assert Enterprise.by_code("1201960456" + NUL) is None
        assert Enterprise.by_code(MEGA) is None


def test_a_stale_or_absurd_version_is_refused_not_crashed(site):
    client = logged_in(site)
    draft = first_id(site, rules.DRAFT)
    path = f"/apply/{draft}"
    for version in (BIG, NUL, "-1", MEGA[:1000]):
        response = client.post(path, data=form_data(client, path=path, version=version))
        assert response.status_code in (400, 409), version
        assert "其他窗口" in summary(response.get_data(as_text=True))


@pytest.mark.parametrize("fields", [{"lang": NUL, "next": "/"}, {"lang": "en", "next": "/\x00//evil.example"},
                                    {"lang": MEGA, "next": MEGA}], ids=["lang-NUL", "next-NUL", "1MB"])
def test_the_language_switch_ignores_malformed_values(site, fields):
    client = logged_in(site)
    response = client.post("/lang", data={"csrf_token": csrf_token(client, "/"), **fields})
    assert response.status_code == 303 and response.location == "/"


# The checks themselves (rules.py), without a database.
@pytest.mark.parametrize("value, multiline, refused", [
    ("张三", False, False), ("张\t三", False, True), ("张\n三", True, False), ("张\t三\r\n", True, False),
    ("张\x00三", True, True), ("\x7f", False, True), ("\x85", True, True), ("abc\u202egpj.exe", False, True),
    ("\u200d", False, False),  # a joiner is part of some scripts' spelling
])
def test_control_characters_are_refused_line_breaks_only_where_the_box_has_lines(value, multiline, refused):
    assert bool(rules.check_typed_text(value, "x", rules.Message(text="x"), 50, multiline=multiline)) == refused


def test_free_text_is_counted_as_its_counter_counts():
    label = rules.Message(text=rules.FIELD_LABELS["reason_text"])
    limit = rules.MAX_REASON_TEXT_BYTES
    assert not rules.check_typed_text("鱼" * (limit // 3), "reason_text", label, limit, in_bytes=True)
    [refusal] = rules.check_typed_text("鱼" * (limit // 3 + 1), "reason_text", label, limit, in_bytes=True)
    assert refusal.render() == f"预约通关事由最多{limit}字节，当前为{(limit // 3 + 1) * 3}字节，请精简后重新输入。"


@pytest.mark.parametrize("day, refused", [
    ("1999-12-31", True), ("2000-01-01", False), ("2026-11-25", False), ("2099-12-31", False), ("2100-01-01", True),
    ("0001-01-01", True), ("9999-12-31", True),
])
def test_dates_are_taken_within_a_window(day, refused):
    from datetime import date

    assert bool(rules.check_date_in_range(date.fromisoformat(day), "start")) == refused


def test_a_quoted_value_is_short_and_shows_its_control_characters():
    assert rules.shown("80\x000") == "80\ufffd0"
    assert rules.shown("9" * 100) == "9" * rules.SHOWN_CHARS + "…"
