"""The JSON API (issue 13): API keys, the screens' rules and refusals over JSON, idempotency, the document."""
import re

import pytest
from sqlalchemy import func, select

import rules
from extensions import db
from models import ApiKey, IdempotentResponse, Notice
from tests.test_apply import VALID_FIELDS, VALID_GOODS

DRAFT = {**VALID_FIELDS, "goods": VALID_GOODS}  # the screen tests' valid application, as JSON

def create_key(client, auth, username="demo-general", name="ERP"):
    """Log in, create a key on the API密钥 page, read it from the page (shown once), log out."""
    auth.login(username)
    page = client.post("/api-keys", data={"name": name, "csrf_token": auth.csrf_token_from("/api-keys")})
    assert page.status_code == 201
    key = re.search(r'id="created-key"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    auth.logout()
    return key


@pytest.fixture()
def key(client, auth):
    return create_key(client, auth)


def bearer(key, **headers):
    return {"Authorization": f"Bearer {key}", **headers}


def test_key_page_shows_the_key_once_and_stores_only_its_hash(app, client, auth, key):
    with app.app_context():
        row = db.session.execute(select(ApiKey)).scalar_one()
        assert row.key_hash != key and len(row.key_hash) == 64 and key.startswith(row.prefix)
    auth.login()
    page = client.get("/api-keys").get_data(as_text=True)
    assert "ERP" in page and key not in page and "从未使用" in page


def test_a_revoked_key_is_refused(client, auth, key):
    assert client.get("/api/v1/applications", headers=bearer(key)).status_code == 200
    auth.login()
    with client.application.app_context():
        key_id = db.session.execute(select(ApiKey.id)).scalar_one()
    client.post(f"/api-keys/{key_id}/revoke", data={"csrf_token": auth.csrf_token_from("/api-keys")})
    auth.logout()
    response = client.get("/api/v1/applications", headers=bearer(key))
    assert response.status_code == 401 and response.json["errors"][0]["code"] == "auth.key"


def test_without_a_key_the_api_refuses(client):
    response = client.get("/api/v1/applications")
    assert response.status_code == 401 and response.json["errors"][0]["code"] == "auth.missing"


def test_a_cookie_session_needs_csrf_for_writes(client, auth):
    auth.login()
    assert client.get("/api/v1/applications").status_code == 200
    assert client.post("/api/v1/applications", json=DRAFT).status_code == 400


def test_create_read_update_submit(app, client, key):
    created = client.post("/api/v1/applications", json=DRAFT, headers=bearer(key))
    assert created.status_code == 201, created.json
    body = created.json
    assert body["status"] == rules.DRAFT and body["pre_entry_number"].startswith("YTG")
    read = client.get(f"/api/v1/applications/{body['id']}", headers=bearer(key)).json
    assert read["goods"] == DRAFT["goods"]
    stale = client.put(f"/api/v1/applications/{body['id']}", json={**DRAFT, "version": body["version"] + 5},
                       headers=bearer(key))
    assert stale.status_code == 409 and stale.json["errors"][0]["code"] == "stale"
    updated = client.put(f"/api/v1/applications/{body['id']}", json={**DRAFT, "contact_name": "李四", "version": body["version"]},
                         headers=bearer(key))
    assert updated.status_code == 200 and updated.json["contact_name"] == "李四"
    submitted = client.post(f"/api/v1/applications/{body['id']}/submit", json={}, headers=bearer(key))
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["status"] == rules.SUBMITTED
    with app.app_context():
        assert db.session.execute(select(Notice.to_status).where(Notice.application_id == body["id"])).scalar() == rules.SUBMITTED


def test_refusals_carry_code_field_and_message_in_the_asked_language(client, key):
    late = {**DRAFT, "start_date": "2026-11-23", "start_hour": "20"}
    created = client.post("/api/v1/applications", json=late, headers=bearer(key)).json
    zh = client.post(f"/api/v1/applications/{created['id']}/submit", json={}, headers=bearer(key))
    en = client.post(f"/api/v1/applications/{created['id']}/submit", json={},
                     headers=bearer(key, **{"Accept-Language": "en"}))
    assert zh.status_code == en.status_code == 400
    assert [e["code"] for e in zh.json["errors"]] == [e["code"] for e in en.json["errors"]]
    assert re.search(r"[\u4e00-\u9fff]", zh.json["errors"][0]["message"])
    assert not re.search(r"[\u4e00-\u9fff]", en.json["errors"][0]["message"].replace(created["pre_entry_number"], ""))


def test_idempotency_key_makes_one_application(app, client, key):
    headers = bearer(key, **{"Idempotency-Key": "order-4711"})
    first = client.post("/api/v1/applications", json=DRAFT, headers=headers)
    again = client.post("/api/v1/applications", json=DRAFT, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"] and again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(IdempotentResponse)).scalar() == 1


def test_list_refuses_a_range_over_15_days_like_the_screen(client, key):
    response = client.get("/api/v1/applications?category=A&applied_from=2026-10-01&applied_to=2026-11-20",
                          headers=bearer(key))
    assert response.status_code == 400
    assert response.json["errors"][0]["code"].startswith("R22")


def test_reference_endpoints(client, key):
    hs = client.get("/api/v1/hs?prefix=2006", headers=bearer(key))
    assert hs.status_code == 200 and hs.json["items"] and all(line["code"].startswith("2006") for line in hs.json["items"])
    assert client.get("/api/v1/hs?prefix=03", headers=bearer(key)).status_code == 400
    hours = client.get("/api/v1/port-hours?port_code=8000&date_from=2026-11-23&date_to=2026-11-27", headers=bearer(key))
    assert hours.status_code == 200 and hours.json["items"]
    tables = client.get("/api/v1/timetables", headers=bearer(key))
    assert tables.status_code == 200 and tables.json["items"][0]["phases"]
    load = client.get("/api/v1/load?port_code=8000", headers=bearer(key))
    assert load.status_code == 200 and len(load.json["days"][0]["hours"]) == 24
    assert client.get("/api/v1/load?port_code=9999", headers=bearer(key)).json["errors"][0]["code"] == "unknown.port"


def test_openapi_document_lists_every_route(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    assert {"/applications", "/applications/{application_id}", "/applications/{application_id}/submit",
            "/hs", "/port-hours", "/timetables", "/load"} <= set(document["paths"])


def test_R12_late_submission_is_refused_with_the_screens_code_and_deadline(app, client, auth, key):
    """Done-when of issue 13: the API's refusal of a late submission is the screen's, deadline included."""
    from tests.test_apply import form_data

    late = {"start_date": "2026-11-23", "start_hour": "20"}
    created = client.post("/api/v1/applications", json={**DRAFT, **late}, headers=bearer(key)).json
    api = client.post(f"/api/v1/applications/{created['id']}/submit", json={}, headers=bearer(key)).json["errors"]
    auth.login()
    screen = client.post("/apply/new", data=form_data(client, action="submit", **late))
    assert screen.status_code == 400
    late_refusals = [e for e in api if e["code"] == "R12.too_late"]
    assert late_refusals and "2026-11-23 08:30" in late_refusals[0]["message"]
    assert late_refusals[0]["message"] in screen.get_data(as_text=True)


def test_broker_example_receives_the_signed_webhook_of_the_officers_acceptance(app, client, auth, key, live_server):
    """Done-when of issue 13: examples/broker.py files through the API and gets 受理 (made in the browser) signed."""
    import socket
    import sys
    import threading
    import time
    from pathlib import Path

    import outbox
    from tests.test_review import decide

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
    import broker

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = "whsec_broker-example-secret"
    auth.login()
    client.post("/webhooks", data={"url": f"http://127.0.0.1:{port}/yuyue", "secret": secret,
                                   "csrf_token": auth.csrf_token_from("/webhooks")})
    auth.logout()
    officer = app.test_client()
    lines, result = [], {}
    stop = threading.Event()

    def deliver():
        with app.app_context():
            outbox.run(poll_seconds=0.05, stop=stop)

    def accept_when_submitted():
        while not any("submitted" in line for line in lines):
            time.sleep(0.05)
        from tests.conftest import Auth

        Auth(officer).login("demo-customs")
        application_id = int(lines[0].split("(id ")[1].split(",")[0])
        assert decide(officer, application_id, "accept").status_code == 303

    base = live_server
    worker = threading.Thread(target=deliver, daemon=True)
    worker.start()
    customs = threading.Thread(target=accept_when_submitted, daemon=True)
    customs.start()
    try:
        result["code"] = broker.main(["--base", base, "--key", key, "--secret", secret, "--listen", f"127.0.0.1:{port}",
                                      "--start-date", "2026-11-25", "--timeout", "60"],
                                     out=lambda *parts, sep=" ": lines.append(sep.join(map(str, parts))))
    finally:
        stop.set()
        worker.join(10)
    assert result["code"] == 0, lines
    assert lines[-1] == "受理 received and its signature verified."


def test_a_bearer_request_gets_no_session_cookie(client, key):
    response = client.post("/api/v1/applications", json=DRAFT, headers=bearer(key))
    assert response.status_code == 201 and "Set-Cookie" not in response.headers


def test_key_page_refuses_a_blank_name(client, auth):
    auth.login()
    page = client.post("/api-keys", data={"name": " ", "csrf_token": auth.csrf_token_from("/api-keys")})
    assert page.status_code == 400 and "请填写密钥名称" in page.get_data(as_text=True)


def test_a_key_reads_only_its_enterprises_applications(app, client, auth, key):
    other = create_key(client, auth, "demo-advanced")
    created = client.post("/api/v1/applications", json=DRAFT, headers=bearer(key)).json
    assert client.get(f"/api/v1/applications/{created['id']}", headers=bearer(other)).status_code == 404
    assert client.post(f"/api/v1/applications/{created['id']}/submit", json={}, headers=bearer(other)).status_code == 404


def test_attachments_are_checked_like_the_screens(client, key):
    """R10 through the API: a PDF is kept, a file that is no PDF is refused by name."""
    import io

    from tests.test_apply import small_pdf

    created = client.post("/api/v1/applications", json=DRAFT, headers=bearer(key)).json
    path = f"/api/v1/applications/{created['id']}/attachments"
    kept = client.post(path, data={"attachments": (io.BytesIO(small_pdf()), "提单.pdf"), "version": str(created["version"])},
                       headers=bearer(key), content_type="multipart/form-data")
    assert kept.status_code == 200, kept.json
    assert kept.json["attachments"] == ["提单.pdf"]
    refused = client.post(path, data={"attachments": (io.BytesIO(b"not a pdf"), "notes.txt")}, headers=bearer(key),
                          content_type="multipart/form-data")
    assert refused.status_code == 400 and "notes.txt" in refused.json["errors"][0]["message"]
