"""The outbox (issue 13) with real parts: an HTTP receiver on 127.0.0.1 that checks signatures, a real SMTP server
(aiosmtpd), and `flask worker` as a process, killed in the middle of a delivery."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

import outbox
import rules
from extensions import db
from models import Outbox
from tests.test_api import DRAFT, bearer, create_key
from tests.test_review import decide

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_test-secret-0123456789"


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that verifies each delivery's signature; it can fail or hang on demand."""

    def __init__(self):
        self.deliveries, self.acknowledged = [], []
        self.fail_next = 0
        self.hang_next = threading.Event()  # set: the next request is held without an answer until `release`
        self.release = threading.Event()
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                delivery = {"event_id": self.headers[outbox.EVENT_ID_HEADER], "body": json.loads(body),
                            "verified": outbox.verify(SECRET, self.headers[outbox.SIGNATURE_HEADER], body)}
                receiver.deliveries.append(delivery)
                receiver.arrived.set()
                if receiver.hang_next.is_set():
                    receiver.hang_next.clear()
                    receiver.release.wait(30)
                    self.close_connection = True  # never answered: not acknowledged
                    return
                if receiver.fail_next:
                    receiver.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                self.send_response(204)
                self.end_headers()
                receiver.acknowledged.append(delivery)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/yuyue"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture()
def receiver():
    r = Receiver()
    yield r
    r.release.set()
    r.server.shutdown()


@pytest.fixture()
def broker(client, auth, receiver):
    """demo-general with a webhook registered on the page and an API key; returns the key."""
    key = create_key(client, auth)
    auth.login()
    page = client.post("/webhooks", data={"url": receiver.url, "secret": SECRET,
                                          "csrf_token": auth.csrf_token_from("/webhooks")})
    assert page.status_code == 201
    auth.logout()
    return key


def submit_through_api(client, key):
    created = client.post("/api/v1/applications", json=DRAFT, headers=bearer(key)).json
    submitted = client.post(f"/api/v1/applications/{created['id']}/submit", json={}, headers=bearer(key))
    assert submitted.status_code == 200
    return created["id"]


def rows(app):
    with app.app_context():
        return db.session.execute(select(Outbox).order_by(Outbox.id)).scalars().all()


def run_worker_once(app):
    with app.app_context():
        return outbox.run_once()


def test_status_change_by_api_and_by_officer_is_delivered_signed(app, client, auth, broker, receiver):
    application_id = submit_through_api(client, broker)
    auth.login("demo-customs")
    assert decide(client, application_id, "accept").status_code == 303
    assert run_worker_once(app) == 2
    assert [d["body"]["data"]["status"] for d in receiver.acknowledged] == [rules.SUBMITTED, rules.ACCEPTED]
    assert all(d["verified"] for d in receiver.deliveries)
    assert receiver.acknowledged[1]["body"]["data"]["by_role"] == "customs"
    assert all(r.delivered_at for r in rows(app))


def test_signature_is_refused_with_another_secret_or_a_changed_body():
    body = b'{"a": 1}'
    header = outbox.sign(SECRET, body)
    assert outbox.verify(SECRET, header, body)
    assert not outbox.verify("another-secret-0123456", header, body)
    assert not outbox.verify(SECRET, header, b'{"a": 2}')
    assert not outbox.verify(SECRET, header, body, now=time.time() + 3600)


def test_a_receiver_that_is_down_gets_it_later(app, client, broker, receiver):
    receiver.fail_next = 1
    submit_through_api(client, broker)
    run_worker_once(app)
    [row] = rows(app)
    assert row.delivered_at is None and row.attempts == 1 and "503" in row.last_error
    with app.app_context():
        db.session.get(Outbox, row.id).next_attempt_at = outbox.real_now()  # the backoff has passed
        db.session.commit()
    run_worker_once(app)
    [row] = rows(app)
    assert row.delivered_at is not None and len(receiver.acknowledged) == 1


def test_send_again_from_the_delivery_log(app, client, auth, broker, receiver):
    submit_through_api(client, broker)
    run_worker_once(app)
    auth.login()
    log = client.get("/webhooks").get_data(as_text=True)
    assert "已送达" in log
    row_id = rows(app)[0].id
    client.post(f"/webhooks/deliveries/{row_id}/resend", data={"csrf_token": auth.csrf_token_from("/webhooks")})
    run_worker_once(app)
    assert [d["event_id"] for d in receiver.acknowledged] == [rows(app)[0].event_id] * 2


def start_worker(app):
    env = {**os.environ, "FLASK_APP": "app:create_app", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "OUTBOX_LEASE_SECONDS": "1", "SECRET_KEY": "test-secret"}
    return subprocess.Popen([sys.executable, "-m", "flask", "worker", "--poll", "0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(condition, seconds=30):
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "gave up waiting"
        time.sleep(0.05)


def test_worker_killed_mid_delivery_delivers_exactly_once_to_the_acknowledging_receiver(app, client, broker, receiver):
    receiver.hang_next.set()
    submit_through_api(client, broker)
    worker = start_worker(app)
    try:
        assert receiver.arrived.wait(30)
        worker.send_signal(signal.SIGKILL)  # in the middle of the delivery: sent, not yet answered
        worker.wait(10)
    finally:
        receiver.release.set()
    [row] = rows(app)
    assert row.delivered_at is None and receiver.acknowledged == []
    worker = start_worker(app)
    try:
        wait_for(lambda: rows(app)[0].delivered_at is not None)
        time.sleep(1.5)  # past another lease: a delivered row is never taken again
    finally:
        worker.terminate()
        worker.wait(10)
    assert len(receiver.acknowledged) == 1
    assert [d["event_id"] for d in receiver.deliveries] == [row.event_id] * 2  # the same id both times
    assert all(d["verified"] for d in receiver.deliveries)


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def test_email_notice_through_a_real_smtp_server_and_the_notice_list(app, client, auth):
    mailbox = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))
        key = create_key(client, auth)
        auth.login()
        client.post("/webhooks/email", data={"email": "ops@example.com", "csrf_token": auth.csrf_token_from("/webhooks")})
        auth.logout()
        application_id = submit_through_api(client, key)
        run_worker_once(app)
    finally:
        controller.stop()
    [(recipients, content)] = mailbox.messages
    assert recipients == ["ops@example.com"]
    auth.login()
    notices = client.get("/webhooks/notices").get_data(as_text=True)
    number = re.search(r"YTG\d+", notices).group(0)
    assert number in content
    assert "申报" in notices
    # An unread notice opens its application through a small form that marks it read (blueprints/webhooks.py).
    notice_id = re.search(r'action="/webhooks/notices/(\d+)/read"', notices).group(1)
    opened = client.post(f"/webhooks/notices/{notice_id}/read", data={"open": "1", "csrf_token": auth.csrf_token_from("/")})
    assert opened.headers["Location"].endswith(f"/apply/{application_id}")


@pytest.mark.parametrize("url, secret, code_text", [
    ("ftp://erp.example.com/hook", "", "http:// 或 https://"),
    ("https://erp.example.com/hook", "short", "16至100个字符"),
])
def test_webhook_page_refuses_and_keeps_what_was_typed(client, auth, url, secret, code_text):
    auth.login()
    page = client.post("/webhooks", data={"url": url, "secret": secret, "csrf_token": auth.csrf_token_from("/webhooks")})
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and code_text in text and f'value="{url}"' in text


def test_another_enterprises_delivery_cannot_be_resent(app, client, auth, broker):
    submit_through_api(client, broker)
    row_id = rows(app)[0].id
    auth.login("demo-advanced")
    response = client.post(f"/webhooks/deliveries/{row_id}/resend", data={"csrf_token": auth.csrf_token_from("/webhooks")})
    assert response.status_code == 404 and len(rows(app)) == 1


def test_due_obligations_are_noticed_once_and_emailed(app, client, auth):
    """R25: feedback due after an approved appointment's start, statement due after an approved one is cancelled."""
    import clock
    from models import Enterprise, Notice, NoticeAddress

    with app.app_context():
        overdue = Enterprise.by_code("1301960654")  # demo-overdue: approved, no numbers after 5 days (R17)
        db.session.add(NoticeAddress(enterprise_id=overdue.id, email="ops@example.com", updated_at=clock.now()))
        db.session.commit()
        first = outbox.notice_obligations(clock.now())
        again = outbox.notice_obligations(clock.now())
        kinds = db.session.execute(select(Notice.to_status).where(Notice.enterprise_id == overdue.id)).scalars().all()
        mails = db.session.execute(select(Outbox).where(Outbox.enterprise_id == overdue.id)).scalars().all()
    assert first >= 1 and again == 0
    assert outbox.FEEDBACK_DUE in kinds
    assert mails and all(m.kind == Outbox.KIND_EMAIL for m in mails)
    auth.login("demo-overdue")
    assert "请在" in client.get("/webhooks/notices").get_data(as_text=True)


def test_an_internal_address_is_refused_outside_the_demo(app, client, auth):
    app.config["DEMO_MODE"] = False
    auth.login()
    page = client.post("/webhooks", data={"url": "http://127.0.0.1:8080/hook", "secret": "",
                                          "csrf_token": auth.csrf_token_from("/webhooks")})
    assert page.status_code == 400 and "内部网络地址" in page.get_data(as_text=True)
