"""The enterprise's day (issue 12): the home page's agenda, R6 naming its application, live checks beside the time,
returned applications copied as new, printable pages and the .ics download."""
import re

import pytest

from sqlalchemy import select

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
    assert html.index('id="return-reason"') < html.index('id="application-form"')
    assert "随附材料不清晰" in html[html.index('id="return-reason"'):html.index('id="application-form"')]
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
