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
