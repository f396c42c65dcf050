"""口岸管理 across areas (issue 10): a port administrator reaches no page of another port; a grade change moves R12."""
import re

import pytest
from sqlalchemy import select

import rules
from extensions import db
from models import Announcement, Enterprise, Port, Timetable, User
from tests.conftest import csrf_token

ADVANCED_CONSIGNEE = "130198004Y"  # 河北省电子口岸发展股份有限公司, 高级认证企业

# Sample values for the other parts of a port-scoped URL.
URL_VALUES = {"year": 2026, "day": "2026-12-01"}


@pytest.fixture()
def admin_0400(app, client, auth):
    """A port administrator of 0400 alone (demo-admin runs four ports)."""
    with app.app_context():
        admin = User(username="admin-0400", display_name="admin-0400", role=rules.ROLE_ADMIN,
                     ports=[db.session.get(Port, "0400")])
        admin.set_password("demo1234")
        db.session.add(admin)
        db.session.commit()
    auth.login("admin-0400")
    return client


def port_pages(app, port_code):
    """Every administration URL that names a port, for every method it answers, with that port in it."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin") and "port_code" in rule.arguments:
            values = {name: URL_VALUES.get(name) for name in rule.arguments if name != "port_code"}
            if None in values.values():
                continue  # an id of a record: see the test below
            with app.test_request_context():
                url = app.url_for(rule.endpoint, port_code=port_code, **values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, url


def test_a_port_administrator_reaches_no_page_of_another_port(app, admin_0400):
    pages = list(port_pages(app, "8000"))
    assert len(pages) >= 8  # calendars, timetables, capacity: GET and POST
    token = csrf_token(admin_0400, "/admin")
    for method, url in pages:
        response = admin_0400.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        assert response.status_code in (403, 404), (method, url, response.status_code)
    # The same pages of its own port answer (a port's calendar opens on its current year).
    for method, url in port_pages(app, "0400"):
        if method == "GET":
            assert admin_0400.get(url).status_code in (200, 302), url


def test_records_of_another_port_are_refused_by_id(app, admin_0400):
    with app.app_context():
        timetable = db.session.execute(select(Timetable).where(Timetable.port_code == "8000")).scalars().first()
        announcement = Announcement(title="8000 only", body="", publisher="海关", port_code="8000",
                                    published_on=timetable.published_on)
        db.session.add(announcement)
        db.session.commit()
        timetable_id, announcement_id = timetable.id, announcement.id
    assert admin_0400.get(f"/admin/ports/8000/timetables/{timetable_id}").status_code == 403
    assert admin_0400.get(f"/admin/ports/0400/timetables/{timetable_id}").status_code == 404
    assert admin_0400.get(f"/admin/announcements/{announcement_id}").status_code in (403, 404)


def deadline_text(client):
    """The R12 deadline beside the time, as the schedule helper shows it for a Wednesday evening at 8000."""
    token = csrf_token(client, "/apply/new")
    body = client.post("/apply/new", headers={"HX-Request": "true", "HX-Target": "schedule-info", "X-CSRFToken": token},
                       data={"action": "schedule", "consignee_code": ADVANCED_CONSIGNEE, "declaration_port": "8000",
                             "entry_port": "0400", "start_date": "2026-11-25", "start_hour": "18"})
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body.get_data(as_text=True))).strip()


def test_R12_deadline_follows_the_grade_the_administrator_sets(app, client, auth):
    auth.login("demo-general")
    before = deadline_text(client)
    auth.logout()
    auth.login("demo-site-admin")
    with app.app_context():
        firm = Enterprise.by_code("5001960123")
        form = {"customs_code": firm.customs_code, "uscc": firm.uscc, "inspection_code": firm.inspection_code,
                "name": firm.name, "credit_grade": rules.ADVANCED_CERTIFIED, "qualified": "y"}
        firm_id = firm.id
    response = client.post(f"/admin/enterprises/{firm_id}",
                           data={**form, "csrf_token": csrf_token(client, f"/admin/enterprises/{firm_id}")})
    assert response.status_code == 303
    auth.logout()
    auth.login("demo-general")
    after = deadline_text(client)
    assert "最迟" in before and "最迟" in after
    # R2, R12: with an advanced consignee the declarant's grade decides; advanced enterprises get a shorter deadline.
    assert "一般企业" in before and "高级企业" in after and before != after
