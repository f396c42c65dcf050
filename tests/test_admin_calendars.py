"""口岸工作日历 administration through the pages: publish an arrangement, edit days, copy, scope and audit (R11–R13)."""
import re
from datetime import date, time
from pathlib import Path

import pytest
from sqlalchemy import select

from extensions import db
from models import Application, AuditEntry, CalendarNote, CalendarYear, Port, User, WorkingDay

FIXTURE = Path(__file__).parent / "data" / "holiday-cn-2027.json"


@pytest.fixture()
def admin(client, auth):
    auth.login("demo-admin")
    return client


def token(client, path="/admin/calendars"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def working(app, port, day):
    with app.app_context():
        row = db.session.execute(select(WorkingDay).where(WorkingDay.port_code == port, WorkingDay.day == day)).scalar()
        return (row.opens, row.closes) if row else None


def audit_actions(app):
    with app.app_context():
        return [(e.action, e.port_code) for e in db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def upload(client, ports, raw=None):
    data = {"csrf_token": token(client), "ports": ports,
            "file": (FIXTURE.open("rb") if raw is None else __import__("io").BytesIO(raw), "2027.json")}
    return client.post("/admin/calendars/import", data=data, content_type="multipart/form-data")


def test_year_view_shows_provisional_banner_naming_what_is_missing(admin):
    page = admin.get("/admin/calendars/0400/2027").get_data(as_text=True)
    assert "暂定" in page and "尚缺国务院公布的 2027 年节假日安排" in page and "调休上班日" in page
    # R11: the provisional year already knows 元旦.
    assert re.search(r'class="day-off" id="d2027-01-01".*?元旦', page, re.S)
    page = admin.get("/admin/calendars/8000/2027").get_data(as_text=True)
    assert "尚未编制 2027 年工作日历" in page and "获取该关区的工作时间表为空" in page


def test_upload_previews_then_applies_to_several_ports(app, admin):
    preview = upload(admin, ["8000", "0400"])
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "新编制 2027 年工作日历" in text  # 8000 had no 2027
    assert "2027-01-31 09:00-16:30 春节" in text  # 0400: the adjusted working Sunday appears
    assert working(app, "0400", date(2027, 1, 31)) is None  # nothing written by the preview
    document = re.search(r'<textarea name="document" hidden>(.*?)</textarea>', text, re.S).group(1)
    import html
    response = admin.post("/admin/calendars/import/apply", data={
        "csrf_token": token(admin), "document": html.unescape(document), "filename": "2027.json",
        "ports": ["8000", "0400"]})
    assert response.status_code == 303
    for port in ("8000", "0400"):
        assert working(app, port, date(2027, 1, 31)) == (time(9), time(16, 30))  # 调休 Sunday works
        assert working(app, port, date(2027, 2, 9)) is None  # a weekday of 春节 is off
        assert working(app, port, date(2027, 10, 8)) == (time(9), time(16, 30))
    with app.app_context():
        assert db.session.get(CalendarYear, ("0400", 2027)).provisional is False
        assert db.session.get(CalendarNote, ("8000", date(2027, 1, 1))).note == "元旦"
    assert audit_actions(app)[-2:] == [("calendar.import", "8000"), ("calendar.import", "0400")]
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "已按国务院节假日安排发布 2027 年工作日历" in page and "尚缺国务院公布" not in page


@pytest.mark.parametrize("raw, says", [
    (b"{oops", "不是有效的 JSON"),
    (b'{"year": 2027, "days": [{"name": "x", "date": "2027-02-30", "isOffDay": true}]}', "2027-02-30"),
])
def test_a_bad_file_is_refused_and_the_chosen_ports_stay_ticked(app, admin, raw, says):
    response = upload(admin, ["0400"], raw)
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and says in text
    assert 'value="0400" checked' in text
    assert audit_actions(app) == []


def test_edit_one_day_with_note_and_hours(app, admin):
    url = "/admin/calendars/0400/day/2027-10-04"
    response = admin.post(url, data={"csrf_token": token(admin, url), "kind": "working", "opens": "08:00",
                                     "closes": "12:00", "note": "国庆值班"})
    assert response.status_code == 303
    assert working(app, "0400", date(2027, 10, 4)) == (time(8), time(12))
    with app.app_context():
        assert db.session.get(CalendarNote, ("0400", date(2027, 10, 4))).note == "国庆值班"
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "calendar.day")).scalar_one()
        assert "2027-10-04 09:00-16:30" in entry.before and "2027-10-04 08:00-12:00 国庆值班" in entry.after
    page = admin.get("/admin/calendars/0400/2027").get_data(as_text=True)
    assert re.search(r'day-special" id="d2027-10-04".*?08:00-12:00.*?国庆值班', page, re.S)


def test_bad_hours_are_refused_keeping_what_was_typed(app, admin):
    url = "/admin/calendars/0400/day/2027-10-04"
    response = admin.post(url, data={"csrf_token": token(admin, url), "kind": "working", "opens": "17:00",
                                     "closes": "9:00", "note": "值班"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "上班时间 17:00 须早于下班时间 09:00" in text
    assert 'value="17:00"' in text and 'value="9:00"' in text and 'value="值班"' in text
    assert working(app, "0400", date(2027, 10, 4)) == (time(9), time(16, 30))


def test_range_makes_days_off_and_keeps_holiday_names(app, admin):
    url = "/admin/calendars/0400/2027"
    response = admin.post("/admin/calendars/0400/range", data={
        "csrf_token": token(admin, url), "year": "2027", "first": "2026-12-31", "last": "2027-01-05",
        "kind": "off", "opens": "", "closes": "", "note": ""})
    assert response.status_code == 303
    assert all(working(app, "0400", date(2027, 1, d)) is None for d in (4, 5))
    assert working(app, "0400", date(2026, 12, 31)) is None
    with app.app_context():
        assert db.session.get(CalendarNote, ("0400", date(2027, 1, 1))).note == "元旦"
    assert audit_actions(app)[-1] == ("calendar.range", "0400")


def test_range_in_a_year_without_calendar_is_refused_keeping_values(admin):
    response = admin.post("/admin/calendars/8000/range", data={
        "csrf_token": token(admin), "year": "2027", "first": "2027-01-04", "last": "2027-01-08",
        "kind": "working", "opens": "09:00", "closes": "17:00", "note": "试"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "尚未编制 2027 年的工作日历" in text
    assert 'value="2027-01-04"' in text and 'value="17:00"' in text and 'value="试"' in text


def test_copy_a_year_to_another_port(app, admin):
    response = admin.post("/admin/calendars/0400/2027/copy", data={"csrf_token": token(admin), "target": "8000"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(CalendarYear, ("8000", 2027)).provisional is True
    assert working(app, "8000", date(2027, 1, 4)) == (time(9), time(16, 30))
    assert audit_actions(app)[-1] == ("calendar.copy", "8000")


def test_generate_a_provisional_year_without_statutory_holidays(app, admin):
    response = admin.post("/admin/calendars/8000/2027/generate", data={"csrf_token": token(admin)})
    assert response.status_code == 303
    assert working(app, "8000", date(2027, 1, 1)) is None  # R11: 元旦 is not working time
    assert working(app, "8000", date(2027, 1, 4)) is not None


def test_an_edit_that_puts_a_submitted_window_in_working_time_lists_it(app, admin):
    with app.app_context():
        application = db.session.execute(select(Application).where(
            Application.status == "submitted", Application.declaration_port.in_(["0100", "0200", "0400", "8000"]))
            .order_by(Application.id)).scalars().first()
        number, port, day = application.pre_entry_number, application.declaration_port, application.start.date()
    url = f"/admin/calendars/{port}/day/{day.isoformat()}"
    response = admin.post(url, data={"csrf_token": token(admin, url), "kind": "working", "opens": "09:00",
                                     "closes": "23:00", "note": ""}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "份已提交的申请的预约通关时间现在落在工作时间内" in text
    listed = text[text.index('id="listed-applications"'):]
    assert number in listed and "23:00" in listed
    with app.app_context():  # listed, not changed
        assert db.session.execute(select(Application.status).where(
            Application.pre_entry_number == number)).scalar() == "submitted"


@pytest.fixture()
def admin_0400_only(app, client, auth):
    from models import ROLE_ADMIN

    with app.app_context():
        user = User(username="admin-0400", display_name="admin-0400", role=ROLE_ADMIN,
                    ports=[db.session.get(Port, "0400")])
        user.set_password("demo1234")
        db.session.add(user)
        db.session.commit()
    auth.login("admin-0400")
    return client


@pytest.mark.parametrize("method, path", [
    ("get", "/admin/calendars/8000/2027"),
    ("get", "/admin/calendars/8000/day/2026-12-01"),
    ("post", "/admin/calendars/8000/day/2026-12-01"),
    ("post", "/admin/calendars/8000/range"),
    ("post", "/admin/calendars/8000/2026/copy"),
    ("post", "/admin/calendars/8000/2027/generate"),
    ("post", "/admin/calendars/import"),
])
def test_port_admin_of_0400_gets_403_on_port_8000(app, admin_0400_only, method, path):
    data = {"csrf_token": token(admin_0400_only), "ports": ["8000"], "kind": "off", "first": "2026-12-01",
            "last": "2026-12-02"}
    response = getattr(admin_0400_only, method)(path, data=data) if method == "post" else admin_0400_only.get(path)
    assert response.status_code == 403
    assert audit_actions(app) == []


def test_port_admin_cannot_copy_into_another_admins_port(app, admin_0400_only):
    response = admin_0400_only.post("/admin/calendars/0400/2027/copy",
                                    data={"csrf_token": token(admin_0400_only), "target": "8000"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(CalendarYear, ("8000", 2027)) is None


def test_enterprise_users_get_403(general):
    assert general.get("/admin/calendars").status_code == 403
