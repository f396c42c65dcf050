"""预约审核: customs officers accept, approve and return applications at their ports (the status graph)."""
import re
from datetime import datetime

import pytest

from extensions import db
from models import Application, Port, User
from tests.conftest import ids_with_status
from tests.conftest import csrf_token
from rules import ACCEPTED, APPROVED, DRAFT, RETURNED, SUBMITTED


@pytest.fixture()
def officer(client, auth):
    auth.login("demo-customs")
    return client


def decide(client, application_id, decision, reason="", version=None):
    path = f"/review/{application_id}"
    page = client.get(path).get_data(as_text=True)
    version = version or re.search(r'name="version" value="(\d+)"', page).group(1)
    return client.post(path, data={"csrf_token": csrf_token(client, path), "decision": decision, "reason": reason, "version": version})


def stored(app, application_id):
    with app.app_context():
        application = db.session.get(Application, application_id)
        return application.status, [(h.from_status, h.to_status, h.user.username, h.note) for h in application.history][-1]


def test_queue_lists_waiting_applications_of_my_ports(officer, app):
    page = officer.get("/review").get_data(as_text=True)
    submitted, accepted = ids_with_status(app, SUBMITTED)[0], ids_with_status(app, ACCEPTED)[0]
    assert f"/review/{submitted}" in page and f"/review/{accepted}" in page
    assert f"/review/{ids_with_status(app, APPROVED)[0]}" not in page


def test_accept_then_approve(officer, app):
    submitted = ids_with_status(app, SUBMITTED)[0]
    assert decide(officer, submitted, "accept").status_code == 303
    assert stored(app, submitted) == (ACCEPTED, (SUBMITTED, ACCEPTED, "demo-customs", ""))
    assert decide(officer, submitted, "approve").status_code == 303
    status, _ = stored(app, submitted)
    assert status == APPROVED
    with app.app_context():
        assert db.session.get(Application, submitted).approved_at.isoformat() == "2026-11-23T10:00:00"


def test_return_needs_a_reason_which_the_enterprise_sees(officer, app, auth):
    accepted = ids_with_status(app, ACCEPTED)[0]
    response = decide(officer, accepted, "return")
    assert response.status_code == 400 and "退单须填写退单原因" in response.get_data(as_text=True)
    assert stored(app, accepted)[0] == ACCEPTED
    decide(officer, accepted, "return", reason="报关单证不全")
    assert stored(app, accepted) == (RETURNED, (ACCEPTED, RETURNED, "demo-customs", "报关单证不全"))
    auth.logout()
    auth.login("demo-general")
    assert "报关单证不全" in officer.get(f"/apply/{accepted}").get_data(as_text=True)


def test_a_move_the_graph_does_not_have_is_refused(officer, app):
    submitted = ids_with_status(app, SUBMITTED)[0]
    response = decide(officer, submitted, "approve")  # 申报 → 预约成功 skips 已受理
    assert response.status_code == 400 and "不能改为" in response.get_data(as_text=True)
    assert stored(app, submitted)[0] == SUBMITTED


def test_other_ports_and_drafts_are_not_the_officers(officer, app):
    with app.app_context():
        user = db.session.query(User).filter_by(username="demo-customs").one()
        user.ports = [db.session.get(Port, "0100")]
        db.session.commit()
    assert officer.get(f"/review/{ids_with_status(app, SUBMITTED)[0]}").status_code == 404
    assert officer.get(f"/review/{ids_with_status(app, DRAFT)[0]}").status_code == 404


def test_enterprises_cannot_review(client, auth, app):
    auth.login("demo-general")
    assert client.get("/review").status_code == 403


def test_a_decision_on_a_page_another_officer_already_changed_is_refused(officer, app):
    submitted = ids_with_status(app, SUBMITTED)[0]
    stale = re.search(r'name="version" value="(\d+)"', officer.get(f"/review/{submitted}").get_data(as_text=True)).group(1)
    decide(officer, submitted, "accept")
    response = decide(officer, submitted, "return", reason="重复", version=stale)
    assert response.status_code == 400 and "刚被其他人处理过" in response.get_data(as_text=True)
    assert stored(app, submitted)[0] == ACCEPTED


def test_no_approval_after_the_appointment_start(officer, app):
    accepted = ids_with_status(app, ACCEPTED)[0]
    with app.app_context():
        application = db.session.get(Application, accepted)
        application.start = datetime(2026, 11, 22, 18)
        db.session.commit()
    response = decide(officer, accepted, "approve")
    assert response.status_code == 400 and "已过，不能再受理或批准" in response.get_data(as_text=True)
    assert decide(officer, accepted, "return", reason="预约时间已过").status_code == 303
