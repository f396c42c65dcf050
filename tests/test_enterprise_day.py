"""The enterprise's day (issue 12): the home page's agenda, R6 naming its application, live checks beside the time,
returned applications copied as new, printable pages and the .ics download."""
import re

import pytest

from sqlalchemy import func, select

from extensions import db
from models import Application
from tests.conftest import ids_with_status
from rules import CANCELLED, RETURNED


def text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_home_of_overdue_enterprise_names_and_links_its_overdue_application(client, auth):
    """R6/R17/R25: the home says the numbers were due 5 days after the appointment and links the application."""
    auth.login("demo-overdue")
    html = client.get("/").get_data(as_text=True)
    due = html[html.index('id="due"'):html.index('id="upcoming"')]
    assert re.search(r'<a href="/apply/(\d+)">YTG\d{15}</a>', due)
    assert "反馈报关单号" in due and "已逾期" in due and "2026-11-20 18:00" in due


def test_R6_refusal_names_and_links_the_application_at_fault(client, auth):
    auth.login("demo-overdue")
    response = client.get("/apply/new")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    [(link_id, number)] = re.findall(r'id="blocking-applications">.*?<a href="/apply/(\d+)">(YTG\d{15})</a>', html, re.S)
    assert f"存在通关完成未反馈的预约申请 {number}" in text(response)


def test_home_lists_upcoming_drafts_decisions_and_the_statement_due_after_cancelling(general, app):
    """R25: an approved appointment cancelled on 11-17 12:00 owes a 情况说明 by 11-22 12:00 (5 days)."""
    page = text(general.get("/"))
    assert "发送情况说明" in page and "2026-11-22 12:00" in page
    assert "近14天的预约" in page and "2026-11-27 18:00" in page
    assert "未提交的暂存申请" in page and "随附材料不清晰" in page  # a draft listed, 退单 with its reason
    html = general.get("/").get_data(as_text=True)
    drafts = html[html.index('id="drafts"'):html.index('id="decisions"')]
    for draft_id in ids_with_status(app, "draft"):
        assert f'href="/apply/{draft_id}"' in drafts


def test_customs_home_has_no_agenda(client, auth):
    auth.login("demo-customs")
    html = client.get("/").get_data(as_text=True)
    assert 'id="due"' not in html and html.count("<h1") == 1


def schedule(client, hx=True, **fields):
    from tests.test_apply import form_data
    data = form_data(client, action="schedule", **fields)
    headers = {"HX-Request": "true", "HX-Target": "schedule-info"} if hx else {}
    return client.post("/apply/new", data=data, headers=headers)


def submit_refusals(client, **fields):
    from tests.test_apply import form_data
    response = client.post("/apply/new", data=form_data(client, action="submit", **fields))
    return response.status_code, text(response)


@pytest.mark.parametrize("start_date, start_hour, code", [
    ("2026-11-26", "10", "R11"),  # Thursday during office hours
    ("2026-11-23", "07", "R14"),  # this morning, already past
    ("2027-06-01", "18", "R13"),  # a year no calendar covers
])
def test_time_box_says_what_submit_would_say_before_submit(general, start_date, start_hour, code):
    """R11/R13/R14 beside the time, in 提交's words, and no deadline box for an unacceptable time."""
    fragment = schedule(general, start_date=start_date, start_hour=start_hour)
    assert fragment.status_code == 200
    shown = text(fragment)
    assert "最迟提交时间" not in shown
    status, refused = submit_refusals(general, start_date=start_date, start_hour=start_hour)
    assert status == 400
    box = re.search(r'<div id="deadline" class="deadline late" role="alert">(.*?)</div>',
                    fragment.get_data(as_text=True), re.S).group(1)
    messages = [m.strip() for m in box.split("<br>") if m.strip()]
    assert messages and all(m in refused for m in messages)
    whole = text(schedule(general, hx=False, start_date=start_date, start_hour=start_hour))  # JS off: whole page
    assert all(m in whole for m in messages)


def test_thursday_office_hours_shows_the_R11_refusal(general):
    shown = text(schedule(general, start_date="2026-11-26", start_hour="10"))
    assert "工作时间" in shown and "最迟提交时间" not in shown


def test_acceptable_time_still_shows_the_deadline(general):
    shown = text(schedule(general, start_date="2026-11-25", start_hour="18"))
    assert "最迟提交时间 2026-11-25 08:30" in shown and 'role="alert"' not in shown


def test_returned_application_shows_its_reason_first_and_copies_as_a_new_draft(general, app):
    """复制为新申请: every field, goods row and attachment in a new 暂存 draft; the original is untouched."""
    from tests.conftest import csrf_token
    from tests.test_apply import small_pdf
    from models import Attachment
    [returned_id] = ids_with_status(app, RETURNED)
    with app.app_context():
        original = db.session.get(Application, returned_id)
        original.attachments.append(Attachment(kind=Attachment.KIND_SUPPLEMENT, filename="清单.pdf",
                                               size=len(small_pdf()), sha256="0" * 64, uploaded_at=original.created_at,
                                               data=small_pdf()))
        db.session.commit()
    html = general.get(f"/apply/{returned_id}").get_data(as_text=True)
    assert html.index('id="actions"') < html.index('id="return-reason"') < html.index('<table class="form">')
    assert "随附材料不清晰" in html[html.index('id="return-reason"'):html.index('<table class="form">')]
    response = general.post(f"/apply/{returned_id}/copy", data={"csrf_token": csrf_token(general, f"/apply/{returned_id}")})
    assert response.status_code == 303
    copy_id = int(response.location.rsplit("/", 1)[1])
    assert copy_id != returned_id
    assert "已复制为新申请" in text(general.get(response.location))
    with app.app_context():
        original, copy = db.session.get(Application, returned_id), db.session.get(Application, copy_id)
        assert copy.status == "draft" and original.status == RETURNED
        for name in Application.TEXT_FIELDS + Application.PORT_FIELDS + ("start", "end", "consignee_id"):
            assert getattr(copy, name) == getattr(original, name), name
        assert [(g.name, g.hs_code) for g in copy.goods] == [(g.name, g.hs_code) for g in original.goods]
        assert [(a.filename, a.data) for a in copy.supplements] == [(a.filename, a.data) for a in original.supplements]
        assert copy.pre_entry_number != original.pre_entry_number and not copy.return_reason


def test_copy_is_refused_for_an_application_still_in_progress(general, app):
    from tests.conftest import csrf_token
    [submitted_id] = ids_with_status(app, "submitted")
    assert "复制为新申请" not in general.get(f"/apply/{submitted_id}").get_data(as_text=True)
    response = general.post(f"/apply/{submitted_id}/copy", data={"csrf_token": csrf_token(general, "/")})
    assert response.status_code == 303
    assert "只有退单或已取消的申请可以复制为新申请" in text(general.get(response.location))


def test_printable_form_has_109s_fields_and_every_goods_line(general, app):
    [approved_id] = ids_with_status(app, "approved")[:1]
    html = general.get(f"/apply/{approved_id}").get_data(as_text=True)
    assert f'href="/apply/{approved_id}/print"' in html and f'href="/apply/{approved_id}/appointment.ics"' in html
    response = general.get(f"/apply/{approved_id}/print")
    assert response.status_code == 200
    shown = text(response)
    with app.app_context():
        a = db.session.get(Application, approved_id)
        expected = [a.pre_entry_number, a.consignee_code, a.contact_name, a.contact_mobile, a.declaration_port,
                    a.entry_port, a.start.strftime("%Y-%m-%d %H:%M"), a.end.strftime("%Y-%m-%d %H:%M")]
        expected += [g.hs_code for g in a.goods] + [g.name for g in a.goods]
    for label in ("收发货人", "企业编码", "联系人", "手机", "申报口岸", "进出口岸", "运输方式", "预约通关事由",
                  "申请企业（盖章）", "经办人签字"):
        assert label in shown
    for value in expected:
        assert value in shown
    assert 'id="nav"' not in response.get_data(as_text=True)  # no menu on the paper


def test_receipt_only_once_accepted(general, app):
    [approved_id] = ids_with_status(app, "approved")[:1]
    [draft_id] = ids_with_status(app, "draft")[:1]
    assert "预约通关受理回执" in text(general.get(f"/apply/{approved_id}/receipt"))
    assert general.get(f"/apply/{draft_id}/receipt").status_code == 404
    assert general.get(f"/apply/{draft_id}/appointment.ics").status_code == 404


def test_ics_of_an_approved_appointment_parses_with_its_start_in_shanghai(general, app):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    import icalendar
    [approved_id] = ids_with_status(app, "approved")[:1]
    response = general.get(f"/apply/{approved_id}/appointment.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    [event] = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    with app.app_context():
        a = db.session.get(Application, approved_id)
        start, number = a.start, a.pre_entry_number
    assert event.decoded("dtstart") == start.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    assert event.decoded("dtstart").utcoffset() == timedelta(hours=8)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(hours=2)  # R7
    assert number in str(event["summary"])


def test_another_enterprise_cannot_print_or_download(client, auth, app):
    [approved_id] = ids_with_status(app, "approved")[:1]
    auth.login("demo-advanced")
    for path in ("print", "receipt", "appointment.ics"):
        assert client.get(f"/apply/{approved_id}/{path}").status_code == 404


def test_accessibility_basics_on_the_application_page(general):
    """A skip link first, one h1, and the declarant's read-only values as text, not tab stops."""
    html = general.get("/apply/new").get_data(as_text=True)
    body = html[html.index("<body"):]
    assert re.search(r'<body[^>]*>\s*<a class="skip-link" href="#content">', body)
    assert html.count("<h1") == 1
    declarant_row = html[html.index("申报单位"):html.index("consignee_code")]
    assert "<input" not in declarant_row and "5001960123" in declarant_row


def test_R25_obligations_due_soonest_first_and_overdue_after_five_days():
    from datetime import datetime

    import rules
    now = datetime(2026, 11, 23, 10, 0)
    items = rules.obligations_due([("a", datetime(2026, 11, 20, 18)), ("b", datetime(2026, 11, 15, 18))],
                                  [("c", datetime(2026, 11, 18, 10, 0))], now)
    assert [(i.key, i.what, i.due, i.overdue) for i in items] == [
        ("b", rules.FEEDBACK_DUE, datetime(2026, 11, 20, 18), True),
        ("c", rules.STATEMENT_DUE, datetime(2026, 11, 23, 10, 0), False),  # exactly at the due time: not late
        ("a", rules.FEEDBACK_DUE, datetime(2026, 11, 25, 18), False),
    ]


# The rest of issue 12: notices counted in the header, the toolbar, waiting, warnings, names, searches, history.

def unread(app, code="5001960123"):
    """(the enterprise's unread count as the header shows it, its notices not read) from the database."""
    from models import Enterprise, Notice
    with app.app_context():
        firm = Enterprise.by_code(code)
        notices = db.session.execute(select(Notice.id).where(Notice.enterprise_id == firm.id,
                                                             Notice.read_at.is_(None))).scalars().all()
        return firm.unread_notices, len(notices)


def header(client, path="/"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'<a class="link" id="notices-link" href="/webhooks/notices">([^<]*)</a>', html).group(1)


def test_header_counts_unread_notices_and_a_status_change_adds_one(general, app):
    """Each status change adds an unread notice (outbox.py); the header says how many, read with the user."""
    from tests.test_apply import form_data
    counted, stored_unread = unread(app)
    assert counted == stored_unread > 0  # the seed's moves were counted as they were made
    assert header(general) == f"通知 ({counted})"
    general.post("/apply/new", data=form_data(general, action="submit"))  # 暂存 → 申报: one notice
    assert unread(app) == (counted + 1, counted + 1)
    assert header(general) == f"通知 ({counted + 1})"


def test_the_header_count_costs_no_query(general, app):
    """The count is a column of the enterprise, loaded with the user: no page reads the notice table for it."""
    from sqlalchemy import event
    statements = []
    with app.app_context():
        engine = db.engine
    listen = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        html = general.get("/apply/new").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert 'id="notices-link"' in html
    assert statements and not [s for s in statements if re.search(r"(from|join) notice\b", s.lower())]
    # Loaded with the user: the statement reading the user reads the count too.
    assert any(re.search(r"from user\b", s.lower()) and "enterprise.unread_notices" in s for s in statements)


@pytest.mark.parametrize("username", ["demo-customs", "demo-admin"])
def test_only_enterprise_users_see_the_notice_link(client, auth, username):
    auth.login(username)
    assert 'id="notices-link"' not in client.get("/").get_data(as_text=True)


def test_opening_a_notice_marks_it_read_and_read_all_empties_the_count(general, app):
    from tests.conftest import csrf_token
    counted, _ = unread(app)
    html = general.get("/webhooks/notices").get_data(as_text=True)
    assert html.count('class="unread"') == min(counted, 100) and f"未读 {counted} 条" in text_of(html)
    notice_id = re.search(r'action="/webhooks/notices/(\d+)/read"', html).group(1)
    token = csrf_token(general, "/webhooks/notices")
    opened = general.post(f"/webhooks/notices/{notice_id}/read", data={"open": "1", "csrf_token": token})
    assert opened.status_code == 303 and re.fullmatch(r"/apply/\d+", opened.location)
    assert unread(app) == (counted - 1, counted - 1)
    again = general.post(f"/webhooks/notices/{notice_id}/read", data={"csrf_token": token})  # already read: no change
    assert again.status_code == 303 and unread(app) == (counted - 1, counted - 1)
    response = general.post("/webhooks/notices/read", data={"csrf_token": token})
    assert f"已将{counted - 1}条通知标为已读" in text(general.get(response.location))
    assert unread(app) == (0, 0) and header(general) == "通知 (0)"


def test_another_enterprises_notice_cannot_be_marked(client, auth, app):
    from models import Notice
    with app.app_context():
        notice_id = db.session.execute(select(Notice.id).order_by(Notice.id)).scalars().first()
    auth.login("demo-advanced")
    response = client.post(f"/webhooks/notices/{notice_id}/read", data={"csrf_token": auth.csrf_token_from("/")})
    assert response.status_code == 404


def test_due_obligations_are_noticed_once_and_counted(app):
    """R25: the worker notices each due obligation once; each notice counts once in the header."""
    import clock
    import outbox
    before, _ = unread(app, "1301960654")
    with app.app_context():
        added = outbox.notice_obligations(clock.now())
        outbox.notice_obligations(clock.now())
    assert added >= 1
    assert unread(app, "1301960654") == (before + 1, before + 1)  # demo-overdue: its one overdue feedback


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def toolbar(html):
    start = html.index('<div class="toolbar" id="actions">')
    return html[start:html.index("</div>", start)]


def test_the_toolbar_is_one_row_in_the_seed_order_and_close_is_said_once(general, app):
    [draft_id] = ids_with_status(app, "draft")[:1]
    html = general.get(f"/apply/{draft_id}").get_data(as_text=True)
    bar = text_of(toolbar(html)).split()
    assert bar == ["+新增", "暂存", "删除", "取消预约", "提交"]
    assert text_of(html).count("关闭操作") == 1  # in the tab bar, as in the Single Window
    assert re.search(r'<form method="post" action="/apply/\d+"[^>]*id="application-form"[^>]*>.*id="actions"', html, re.S)


def test_delete_cancel_and_copy_from_the_toolbar(general, app):
    """The toolbar's buttons post the one form; each reaches its own view (R15, R16, 复制为新申请)."""
    from tests.test_apply import form_data
    [draft_id] = ids_with_status(app, "draft")[:1]
    [accepted_id] = ids_with_status(app, "accepted")[:1]
    [returned_id] = ids_with_status(app, "returned")
    path = f"/apply/{accepted_id}"
    asked = general.post(path, data=form_data(general, path=path, action="cancel"))
    assert asked.status_code == 200 and "确定取消预约" in text(asked)
    path = f"/apply/{returned_id}"
    copied = general.post(path, data=form_data(general, path=path, action="copy"))
    assert copied.status_code == 303 and copied.location != path
    path = f"/apply/{draft_id}"
    deleted = general.post(path, data=form_data(general, path=path, action="delete"))
    assert deleted.status_code == 303 and "已删除暂存申请" in text(general.get(deleted.location))
    with app.app_context():
        assert db.session.get(Application, draft_id) is None
        assert db.session.get(Application, accepted_id).status == "accepted"


@pytest.mark.parametrize("username", ["demo-dishonest", "demo-unqualified", "demo-overdue"])
def test_an_enterprise_that_may_not_start_gets_no_form_to_type_into(client, auth, username):
    """R3–R6: the refusal, the toolbar's buttons disabled, and no box to type into."""
    auth.login(username)
    response = client.get("/apply/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 403 and 'id="errors-summary"' in html
    assert 'id="application-form"' not in html and 'name="contact_name"' not in html and "<textarea" not in html
    assert re.search(r'value="save" disabled', html) and re.search(r'value="submit" class="primary" disabled', html)


def test_waiting_is_marked_on_helper_buttons_and_the_plain_form(general):
    """htmx disables a pressed helper button and marks the part it redraws; the plain form says it is uploading."""
    html = general.get("/apply/new").get_data(as_text=True)
    lookup = re.search(r'<button[^>]*value="lookup"[^>]*>', html).group(0)
    assert 'hx-disabled-elt="this"' in lookup and 'hx-indicator="#consignee-info"' in lookup
    form = re.search(r'<form[^>]*id="application-form"[^>]*>', html).group(0)
    assert 'data-busy-upload="正在上传，请稍候…"' in form
    assert html.count("data-busy-note") == 2


def lookup(client, code, hx):
    from tests.test_apply import form_data
    headers = {"HX-Request": "true", "HX-Target": "consignee-info"} if hx else {}
    return client.post("/apply/new", data=form_data(client, action="lookup", consignee_code=code), headers=headers)


@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "no-js"])
def test_R3_dishonest_consignee_is_warned_on_lookup(general, hx):
    from tests.test_apply import DISHONEST_CODE, GENERAL_CONSIGNEE
    response = lookup(general, DISHONEST_CODE, hx)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and ("<html" in html) is not hx
    warning = re.search(r'<span class="error" role="alert" id="consignee-warning">(.*?)</span>', html, re.S).group(1)
    assert warning.startswith("失信企业不允许操作") and "石家庄恒通商贸有限公司" in warning  # R3, the seed's words
    assert 'id="consignee-warning"' not in lookup(general, GENERAL_CONSIGNEE, hx).get_data(as_text=True)


def test_sixth_pdf_is_named_and_files_not_kept_read_as_one_or_several():
    import rules
    from uploads import files_not_kept
    sixth = rules.check_attachment_count(5, 1, names=["装箱单.pdf"])
    assert sixth.render() == "最多可上传5个PDF文件，已有5个，文件 装箱单.pdf 未上传。请先删除不需要的文件，再重新选择上传。"
    two = rules.check_attachment_count(4, 2, names=["a.pdf", "b.pdf"]).render()
    assert "已有4个，本次选择的 2 个文件 a.pdf、b.pdf 均未上传" in two
    [one] = files_not_kept(["a.pdf"])
    [several] = files_not_kept(["a.pdf", "b.pdf"])
    assert one.render() == "本次选择的文件 a.pdf 未保存，请修改上述问题后重新选择上传。"
    assert several.render() == "本次选择的 2 个文件 a.pdf、b.pdf 均未保存，请修改上述问题后重新选择上传。"


def test_a_pre_entry_number_is_found_whatever_the_dates(general, app):
    """The day's default 申请时间 (and any range typed) does not hide the application a pre-entry number names (R22)."""
    [submitted_id] = ids_with_status(app, "submitted")[:1]
    with app.app_context():
        number = db.session.get(Application, submitted_id).pre_entry_number
    for dates in ({"applied_from": "2026-11-23", "applied_to": "2026-11-23"},  # the default: today only
                  {"applied_from": "2026-01-01", "applied_to": "2026-03-01"}):  # over R22's 15 days, not applied
        response = general.get("/query", query_string={"category": "A", "pre_entry_number": number, **dates})
        assert response.status_code == 200
        shown = text(response)
        assert f"{number}" in shown and "总共 1 条记录" in shown and "不限申请时间和预约时间" in shown
    refused = general.get("/query", query_string={"category": "A", "applied_from": "2026-01-01", "applied_to": "2026-03-01"})
    assert refused.status_code == 400  # without a number the range still counts (R22)


def test_batch_delete_without_confirmation_shows_what_would_go(general, app):
    """JavaScript off (or IE9/10): the POST lists the drafts and asks; nothing is deleted until confirmed (R15)."""
    from tests.conftest import csrf_token
    drafts = ids_with_status(app, "draft")
    token = csrf_token(general, "/query")
    data = {"csrf_token": token, "ids": drafts, "category": "A", "applied_from": "2026-11-09", "applied_to": "2026-11-23"}
    asked = general.post("/query/delete", data=data)
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "确定删除以下暂存申请吗" in html and "将删除2项暂存申请" in text(asked)
    with app.app_context():
        numbers = [db.session.get(Application, i).pre_entry_number for i in drafts]
    assert all(n in html for n in numbers) and 'name="confirm" value="yes"' in html
    assert ids_with_status(app, "draft") == drafts
    done = general.post("/query/delete", data={**data, "confirm": "yes"})
    assert done.status_code == 303 and ids_with_status(app, "draft") == []


def test_history_notes_are_kept_as_keys_and_worded_for_each_reader(client, auth, app):
    """A note the system writes (情况说明已阅) is stored by key and shown in the reader's language; a typed one as typed."""
    from models import StatusChange
    from tests.conftest import csrf_token
    [cancelled_id] = ids_with_status(app, "cancelled")  # approved, then cancelled: a statement is due (R18)
    auth.login("demo-general")
    path = f"/apply/{cancelled_id}"
    client.post(f"{path}/statement", data={"csrf_token": csrf_token(client, path), "statement_text": "货物延误，已取消"})
    auth.logout()
    auth.login("demo-customs")
    review = f"/review/{cancelled_id}"
    client.post(f"{review}/statement-read", data={"csrf_token": csrf_token(client, review)})
    auth.logout()
    with app.app_context():
        keys = db.session.execute(select(StatusChange.note_key, StatusChange.note).where(
            StatusChange.application_id == cancelled_id, StatusChange.note_key.isnot(None))).all()
    assert keys == [("statement_sent", "已发送情况说明"), ("statement_read", "情况说明已阅")]
    auth.login("demo-general")
    history = lambda: text_of(client.get(path).get_data(as_text=True).split('id="history"')[1])  # noqa: E731
    assert "情况说明已阅" in history()
    client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client, "/")})
    assert "Statement read" in history() and "情况说明已阅" not in history()


def test_migration_counts_unread_notices_and_keys_the_old_system_notes(app):
    """forms0001 on a database written before it: the count from the unread notices, old notes as keys."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text as sql
    from models import Enterprise, StatusChange
    [cancelled_id] = ids_with_status(app, "cancelled")
    with app.app_context():
        db.session.remove()
        downgrade(revision="api0001")
        with db.engine.begin() as conn:
            for note in ("发送情况说明", "Statement read", "纸质申请 P-7，收单日期 2026-11-20，由海关录入；例外受理：冷链",
                         "货物延误"):
                conn.execute(sql("INSERT INTO status_change (application_id, at, from_status, to_status, note) "
                                 "VALUES (:a, '2026-11-20 10:00:00', 'cancelled', 'cancelled', :n)"),
                             {"a": cancelled_id, "n": note})
        upgrade()
        firm = Enterprise.by_code("5001960123")
        from models import Notice
        assert firm.unread_notices == db.session.execute(select(func.count()).select_from(Notice).where(
            Notice.enterprise_id == firm.id, Notice.read_at.is_(None))).scalar() > 0
        rows = db.session.execute(select(StatusChange.note_key, StatusChange.note_params, StatusChange.note).where(
            StatusChange.application_id == cancelled_id).order_by(StatusChange.id.desc()).limit(4)).all()
    assert rows[::-1] == [
        ("statement_sent", {}, "已发送情况说明"),
        ("statement_read", {}, "情况说明已阅"),
        ("paper_entered_exception", {"reference": "P-7", "day": "2026-11-20", "reason": "冷链"},
         "纸质申请 P-7，收单日期 2026-11-20，由海关录入；例外受理：冷链"),
        (None, None, "货物延误"),  # typed by a person: kept as typed
    ]


def test_every_status_change_carries_its_application_s_declarant(app):
    """Status changes carry their application's declarant (new drafts, moves, customs' decisions), and agenda0001
    gave the changes written before it theirs: the home page finds an enterprise's recent decisions through them."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text as sql

    from models import Application, StatusChange

    def mismatched():
        return db.session.execute(select(func.count()).select_from(StatusChange).join(Application).where(
            (StatusChange.declarant_id.is_(None)) | (StatusChange.declarant_id != Application.declarant_id))).scalar()

    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(StatusChange)).scalar() > 0
        assert mismatched() == 0  # the seed's, made as the site makes them
        db.session.remove()
        downgrade(revision="forms0001")
        with db.engine.begin() as conn:
            assert "declarant_id" not in [c["name"] for c in db.inspect(conn).get_columns("status_change")]
        upgrade()
        assert mismatched() == 0  # filled in from each application
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(row[3] for row in db.session.execute(sql(
                "EXPLAIN QUERY PLAN SELECT id FROM status_change WHERE declarant_id = 1 AND at >= '2026-11-09' "
                "ORDER BY at DESC LIMIT 20")))
            assert "ix_status_change_declarant_id_at" in plan
