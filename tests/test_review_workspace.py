"""The customs workspace (issue 11): queue, detail, R24 capacity and the load view, paper applications, R25 lists,
statistics. Rule IDs from ../shared/DOMAIN.md."""
import re
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from extensions import db
from models import Application, AuditEntry, Port, PortCapacity, StatusChange, User
from rules import ACCEPTED, APPROVED, CANCELLED, CLEARED, RETURNED, SUBMITTED
from tests.conftest import csrf_token, ids_with_status, serve
from tests.test_apply import GENERAL_CONSIGNEE, form_data, stored

OVERDUE_FIRM = "1301960654"


@pytest.fixture()
def officer(client, auth):
    auth.login("demo-customs")
    return client


def rows_of(page):
    return re.findall(r'<a href="/review/(\d+)">', page)


def set_capacity(app, port, per_hour):
    with app.app_context():
        db.session.merge(PortCapacity(port_code=port, per_hour=per_hour, updated_at=datetime(2026, 11, 23, 10)))
        db.session.commit()


# Queue.

def test_queue_opens_on_what_needs_action_now(officer, app):
    page = officer.get("/review").get_data(as_text=True)
    shown = set(rows_of(page))
    assert {str(ids_with_status(app, SUBMITTED)[0]), str(ids_with_status(app, ACCEPTED)[0])} <= shown
    assert str(ids_with_status(app, CLEARED)[0]) not in shown
    assert 'value="action" selected' in page


def test_queue_shows_every_status_with_counts(officer, app):
    page = officer.get("/review?status=").get_data(as_text=True)
    for status in (SUBMITTED, ACCEPTED, APPROVED, CLEARED, RETURNED, CANCELLED):
        assert str(ids_with_status(app, status)[0]) in rows_of(page)
    counts = re.search(r'id="status-counts">(.*?)</p>', page, re.S).group(1)
    assert "通关完成未反馈 <strong>1</strong>" in counts and "申报 <strong>1</strong>" in counts


def test_queue_filters_port_and_overdue_feedback_R17(officer, app):
    overdue_id = str(ids_with_status(app, APPROVED, declarant=OVERDUE_FIRM)[0])
    page = officer.get("/review?status=&port=0400&overdue=1").get_data(as_text=True)
    assert rows_of(page) == [overdue_id] and "通关完成未反馈" in page
    assert rows_of(officer.get("/review?status=&port=8000&overdue=1").get_data(as_text=True)) == []


@pytest.mark.parametrize("query, expected", [
    ("party=渝丰", {SUBMITTED, ACCEPTED, APPROVED, CLEARED, RETURNED, CANCELLED}),
    ("party=1301960654", {APPROVED}),
    ("channel=paper", set()),
])
def test_queue_filters_by_party_and_channel(officer, app, query, expected):
    page = officer.get(f"/review?status=&{query}").get_data(as_text=True)
    with app.app_context():
        statuses = {db.session.get(Application, int(i)).status for i in rows_of(page)}
    assert statuses == expected


def test_queue_pre_entry_number_and_sort_by_appointment(officer, app):
    submitted = stored(app, id=ids_with_status(app, SUBMITTED)[0])
    page = officer.get(f"/review?status=&pre_entry_number={submitted.pre_entry_number.lower()}").get_data(as_text=True)
    assert rows_of(page) == [str(submitted.id)]
    page = officer.get("/review?status=&sort=start&port=8000").get_data(as_text=True)
    with app.app_context():
        starts = [db.session.get(Application, int(i)).start for i in rows_of(page)]
    assert starts == sorted(starts)


def test_queue_pages_without_a_silent_cap(officer, app):
    with app.app_context():
        template = db.session.get(Application, ids_with_status(app, SUBMITTED)[0])
        for n in range(60):
            db.session.add(Application(
                pre_entry_number=f"YTG20269{n:010d}", declarant_id=template.declarant_id,
                consignee_id=template.consignee_id, declaration_port="8000", entry_port="8000", status=SUBMITTED,
                start=template.start, end=template.end, created_at=template.created_at,
                submitted_at=template.submitted_at, updated_at=template.updated_at))
        db.session.commit()
    first = officer.get("/review?status=submitted").get_data(as_text=True)
    second = officer.get("/review?status=submitted&page=2").get_data(as_text=True)
    assert "总共 61 条记录" in first and len(rows_of(first)) == 50 and len(rows_of(second)) == 11
    assert not set(rows_of(first)) & set(rows_of(second))


def test_queue_shows_only_the_officers_ports(officer, app):
    with app.app_context():
        user = db.session.execute(select(User).filter_by(username="demo-customs")).scalar_one()
        user.ports = [db.session.get(Port, "0400")]
        db.session.commit()
    page = officer.get("/review?status=").get_data(as_text=True)
    assert rows_of(page) == [str(ids_with_status(app, APPROVED, declarant=OVERDUE_FIRM)[0])]
    assert "8000 重庆" not in page  # not even offered as a filter


def test_queue_htmx_gets_the_named_block_only(officer):
    response = officer.get("/review?status=", headers={"HX-Request": "true", "HX-Target": "review-queue-page"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="review-queue-page">') and "<html" not in body
    assert "HX-Target" in response.headers["Vary"]


def test_queue_malformed_date_is_a_4xx_that_keeps_the_form(officer):
    response = officer.get("/review?status=&appointment_from=2026-13-01&party=渝丰")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "格式不正确" in page and 'value="渝丰"' in page


# Detail.

def test_detail_shows_parties_deadline_numbers_and_history_R12_R19_R20(officer, app):
    cleared = ids_with_status(app, CLEARED)[0]
    page = officer.get(f"/review/{cleared}").get_data(as_text=True)
    assert "91500000MA5U7X0Q0D" in page and "一般信用企业" in page and "一般认证企业" in page  # both parties
    assert "报关资质 有" in page
    assert "在最迟提交时间前" in page and "最迟提交时间" in page  # R12, the rule's own words
    assert "800020261000000101" in page and "与报关单记录一致" in page  # R19/R20
    assert "状态记录" in page and "demo-customs" in page


def test_detail_names_an_R20_mismatch(officer, app):
    approved = ids_with_status(app, APPROVED)[0]
    with app.app_context():
        from models import DeclarationNumber
        db.session.add(DeclarationNumber(application_id=approved, position=1, number="800020261000000456"))
        db.session.commit()
    page = officer.get(f"/review/{approved}").get_data(as_text=True)
    assert "800020261000000456" in page and "收发货人" in page.split("800020261000000456", 2)[-1]


def test_statement_is_shown_waits_in_the_queue_and_can_be_marked_read_R18(officer, app, auth):
    approved = ids_with_status(app, APPROVED)[0]
    with app.app_context():
        application = db.session.get(Application, approved)
        application.statement_text, application.statement_at = "货物滞港，未能按时申报", datetime(2026, 11, 23, 9)
        db.session.commit()
    assert rows_of(officer.get("/review?status=&statement=1").get_data(as_text=True)) == [str(approved)]
    page = officer.get(f"/review/{approved}").get_data(as_text=True)
    assert "货物滞港，未能按时申报" in page
    path = f"/review/{approved}/statement-read"
    assert officer.post(path, data={"csrf_token": csrf_token(officer, f"/review/{approved}")}).status_code == 303
    assert rows_of(officer.get("/review?status=&statement=1").get_data(as_text=True)) == []


def test_pdf_opens_inline_and_downloads(general, app, auth):
    import io

    from tests.test_apply import small_pdf
    data = form_data(general, action="submit")
    data["attachments"] = [(io.BytesIO(small_pdf()), "清单.pdf")]
    assert general.post("/apply/new", data=data, content_type="multipart/form-data").status_code == 303
    application = stored(app, contact_name="张三")
    with app.app_context():
        file_id = db.session.get(Application, application.id).attachments[0].id
    auth.logout()
    auth.login("demo-customs")
    page = general.get(f"/review/{application.id}").get_data(as_text=True)
    assert f"/review/{application.id}/files/{file_id}/view" in page
    inline = general.get(f"/review/{application.id}/files/{file_id}/view")
    assert inline.status_code == 200 and inline.headers["Content-Disposition"].startswith("inline")
    assert inline.headers["X-Content-Type-Options"] == "nosniff" and "default-src 'none'" in inline.headers[
        "Content-Security-Policy"]
    download = general.get(f"/review/{application.id}/files/{file_id}")
    assert download.headers["Content-Disposition"].startswith("attachment")


# R24 capacity and the load view.

def test_port_admin_sets_capacity_with_an_audit_entry(client, auth, app):
    auth.login("demo-admin")
    token = csrf_token(client, "/admin/capacity")
    refused = client.post("/admin/capacity/8000", data={"csrf_token": token, "per_hour": "两个"})
    assert refused.status_code == 400 and "请填写 0 至" in refused.get_data(as_text=True)
    assert 'value="两个"' in refused.get_data(as_text=True)
    assert client.post("/admin/capacity/8000", data={"csrf_token": token, "per_hour": "2"}).status_code == 303
    assert client.post("/admin/capacity/2200", data={"csrf_token": token, "per_hour": "2"}).status_code in (403, 404)
    with app.app_context():
        assert db.session.get(PortCapacity, "8000").per_hour == 2
        entry = db.session.execute(select(AuditEntry).filter_by(action="capacity.update")).scalar_one()
        assert entry.user.username == "demo-admin" and entry.port_code == "8000"


def test_R24_submit_refused_when_the_hour_is_full_naming_the_next_free_hours(general, app):
    set_capacity(app, "8000", 1)
    assert general.post("/apply/new", data=form_data(general, action="submit")).status_code == 303
    response = general.post("/apply/new", data=form_data(general, action="submit", contact_name="李四"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "口岸 8000 2026-11-25 18:00 这一小时的预约已满（每小时最多 1 个）" in page
    assert "尚有空位的时间：2026-11-25 20:00" in page
    assert stored(app, contact_name="李四").status == "draft"  # kept, not submitted
    load = general.get("/load?port=8000").get_data(as_text=True)
    assert re.search(r'class="load-full" data-hour="2026-11-25 18:00"', load)
    assert re.search(r'class="load-free" data-hour="2026-11-25 20:00"', load)


def test_R24_unlimited_by_default_and_the_load_view_is_public(client, general, app):
    assert general.post("/apply/new", data=form_data(general, action="submit")).status_code == 303
    assert general.post("/apply/new", data=form_data(general, action="submit", contact_name="李四")).status_code == 303
    assert re.search(r'href="/load"[^>]*id="load-link"', general.get("/apply/new").get_data(as_text=True))
    fresh = app.test_client()
    page = fresh.get("/load?port=8000").get_data(as_text=True)
    assert "未设每小时预约上限" in page and 'class="load-working" data-hour="2026-11-24 10:00"' in page


def test_R24_approval_refused_when_no_confirmed_place_is_left(officer, app):
    set_capacity(app, "8000", 0)
    accepted = ids_with_status(app, ACCEPTED)[0]
    path = f"/review/{accepted}"
    version = re.search(r'name="version" value="(\d+)"', officer.get(path).get_data(as_text=True)).group(1)
    response = officer.post(path, data={"csrf_token": csrf_token(officer, path), "decision": "approve",
                                        "version": version})
    assert response.status_code == 400 and "这一小时的预约已满" in response.get_data(as_text=True)
    assert stored(app, id=accepted).status == ACCEPTED


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request):
    """(base URL, app): the site on SQLite, then PostgreSQL, served by a threaded server."""
    any_app = request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")
    for url in serve(any_app):
        yield url, any_app


def test_R24_two_enterprises_race_for_the_last_place_exactly_one_gets_it(served):
    from bench.load import Browser, Flow, application_form

    base_url, app = served
    set_capacity(app, "8000", 1)
    browsers, posts = [], []
    for username in ("demo-general", "demo-advanced"):
        browser = Browser(base_url, Flow(len(browsers), username))
        browser.request("/login", {"username": username, "password": "demo1234", "csrf_token": browser.token("/login")})
        posts.append(application_form(browser.token("/apply/new"), GENERAL_CONSIGNEE, username))
        browsers.append(browser)
    together, answers = threading.Barrier(2), [None, None]

    def submit(i):
        together.wait()
        answers[i] = browsers[i].request("/apply/new", posts[i])

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(a[0] for a in answers) == [303, 400]
    assert "尚有空位的时间：2026-11-25 20:00" in next(a for a in answers if a[0] == 400)[1]
    with app.app_context():
        held = db.session.execute(select(func.count()).select_from(Application).where(
            Application.status == SUBMITTED, Application.start == datetime(2026, 11, 25, 18))).scalar()
        assert held == 1


# Paper applications (公告109).

def paper_data(client, **overrides):
    data = {k: v for k, v in form_data(client, path="/review/paper").items() if k not in ("action", "version")}
    data.update({"declarant_code": "5001960123", "paper_reference": "渝关纸-2026-001",
                 "paper_received_on": "2026-11-23", "exception_reason": "", **overrides})
    return data


def test_paper_application_is_entered_audited_and_in_the_enterprises_query(officer, app, auth):
    response = officer.post("/review/paper", data=paper_data(officer))
    assert response.status_code == 303
    application = stored(app, contact_name="张三")
    assert application.paper and application.status == SUBMITTED and application.paper_reference == "渝关纸-2026-001"
    with app.app_context():
        change = db.session.execute(select(StatusChange).where(StatusChange.application_id == application.id)
                                    .order_by(StatusChange.id.desc())).scalars().first()
        assert change.user.username == "demo-customs" and "纸质申请 渝关纸-2026-001" in change.note
        assert db.session.execute(select(AuditEntry).filter_by(action="paper_application")).scalar_one().user_id
    assert "纸质申请" in officer.get(f"/review/{application.id}").get_data(as_text=True)
    assert rows_of(officer.get("/review?status=&channel=paper").get_data(as_text=True)) == [str(application.id)]
    auth.logout()
    auth.login("demo-general")
    page = officer.get("/query?category=A&applied_from=2026-11-23&applied_to=2026-11-23").get_data(as_text=True)
    assert application.pre_entry_number in page


def test_paper_application_follows_R12_unless_an_exception_is_recorded(officer, app):
    late = paper_data(officer, start_date="2026-11-23", start_hour="18")
    response = officer.post("/review/paper", data=late)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "预约时间不满足海关规定的时长" in page and "例外原因" in page
    assert 'value="渝关纸-2026-001"' in page  # what was typed stays
    late["exception_reason"] = "冷链货物，关长批准例外受理"
    assert officer.post("/review/paper", data=late).status_code == 303
    application = stored(app, contact_name="张三")
    assert application.exception_reason == "冷链货物，关长批准例外受理"


def test_paper_application_never_waives_R3_or_R14(officer, app):
    dishonest = officer.post("/review/paper", data=paper_data(officer, declarant_code="1301960789",
                                                              exception_reason="特批"))
    assert dishonest.status_code == 400 and "失信企业" in dishonest.get_data(as_text=True)
    past = officer.post("/review/paper", data=paper_data(officer, start_date="2026-11-20", exception_reason="特批"))
    assert past.status_code == 400 and "已经过去" in past.get_data(as_text=True)
    unknown = officer.post("/review/paper", data=paper_data(officer, declarant_code="9999999999"))
    assert unknown.status_code == 400 and "未在企业名录中找到" in unknown.get_data(as_text=True)
    assert stored(app, contact_name="张三") is None


# R25 overdue lists.

def test_overdue_lists_R17_feedback_and_statements_after_cancellation(officer, app):
    page = officer.get("/review/overdue").get_data(as_text=True)
    feedback = page.split('id="feedback-due"')[1].split("</table>")[0]
    statements = page.split('id="statement-due"')[1].split("</table>")[0]
    overdue = stored(app, id=ids_with_status(app, APPROVED, declarant=OVERDUE_FIRM)[0])
    cancelled = stored(app, id=ids_with_status(app, CANCELLED)[0])
    assert overdue.pre_entry_number in feedback and "已逾期" in feedback
    assert cancelled.pre_entry_number in statements
    due = (cancelled.cancelled_at + timedelta(days=5)).strftime("%Y-%m-%d %H:%M")
    assert due in statements


# Statistics.

def test_statistics_match_a_direct_sql_count_over_the_demo_db(officer, app):
    page = officer.get("/review/stats?year=2026").get_data(as_text=True)
    with app.app_context():
        expected = db.session.execute(text(
            "SELECT declaration_port, strftime('%Y-%m', submitted_at) AS month, count(*) FROM application "
            "WHERE submitted_at IS NOT NULL AND declaration_port IN ('0100', '0200', '0400', '8000') "
            "GROUP BY declaration_port, month")).all()
        cancelled_after_approval = db.session.execute(text(
            "SELECT count(*) FROM application WHERE status = 'cancelled' AND approved_at IS NOT NULL")).scalar()
    assert expected
    for port, month, count in expected:
        row = re.search(rf'<tr data-port="{port}" data-month="{month}">(.*?)</tr>', page, re.S).group(1)
        assert f"<td data-total>{count}</td>" in row
    assert page.count('data-status="cleared_no_feedback">1<') == 1
    assert "<svg" in page and f"<td>{cancelled_after_approval}</td>" in page
    csv_text = officer.get("/review/stats.csv?year=2026").get_data(as_text=True)
    assert csv_text.startswith("\ufeff口岸,月份") and "8000,2026-11" in csv_text


def test_port_admins_read_statistics_enterprises_do_not(client, auth):
    auth.login("demo-admin")
    assert client.get("/review/stats").status_code == 200
    auth.logout()
    auth.login("demo-general")
    assert client.get("/review/stats").status_code == 403
