"""Account security (issue 9): throttled logins, sessions that end, security headers, the too-large upload page.

Session and throttle times are real time (security.utcnow), not the frozen domain clock: the `moment` fixture
moves that time instead of waiting.
"""
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

import models
import security
from app import create_app
from extensions import db
from models import Attachment, LoginFailure, User
from tests.conftest import PASSWORD, browser_login
from tests.test_apply import form_data, small_pdf, stored
from rules import DRAFT, SUBMITTED

WRONG = "not-the-password"


class Moment:
    """A stand-in for real time that tests move forward."""

    def __init__(self):
        self.now = datetime(2026, 11, 23, 2, 0)

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture()
def moment(monkeypatch):
    clock = Moment()
    monkeypatch.setattr(security, "utcnow", lambda: clock.now)
    return clock


@pytest.fixture()
def hashes(monkeypatch):
    """Counts every password hash checked, for known users (models) and unknown ones (security's dummy)."""
    calls = []

    def counting(original):
        def check(pwhash, password):
            calls.append(password)
            return original(pwhash, password)
        return check

    monkeypatch.setattr(models, "check_password_hash", counting(models.check_password_hash))
    monkeypatch.setattr(security, "check_password_hash", counting(security.check_password_hash))
    return calls


def log_in(client, username, password=PASSWORD, address="127.0.0.1"):
    page = client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def text(response):
    return response.get_data(as_text=True)


def failures(app):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(LoginFailure)).scalar()


# Throttling


def test_the_21st_wrong_password_in_a_minute_is_refused_without_checking_it(client, moment, hashes):
    for _ in range(20):
        assert log_in(client, "demo-general", WRONG).status_code == 400
        moment.advance(seconds=2)
    hashes.clear()
    response = log_in(client, "demo-general", PASSWORD)
    assert response.status_code == 429
    assert "登录失败次数过多，请在 1 分钟后再试" in text(response)
    assert int(response.headers["Retry-After"]) <= 60
    assert hashes == []  # refused before any password was hashed
    assert 'value="demo-general"' in text(response)


def test_after_the_wait_the_right_password_works_again(client, moment):
    for _ in range(20):
        log_in(client, "demo-general", WRONG)
    assert log_in(client, "demo-general").status_code == 429
    moment.advance(seconds=61)
    response = log_in(client, "demo-general")
    assert response.status_code == 303 and response.location == "/"


def test_a_long_campaign_waits_for_the_hourly_limit(client, moment):
    for _ in range(5):
        for _ in range(20):
            log_in(client, "demo-general", WRONG)
        moment.advance(seconds=61)
    response = log_in(client, "demo-general")
    assert response.status_code == 429
    assert re.search(r"请在 (5[5-9]|60) 分钟后再试", text(response))


def test_one_address_trying_many_names_is_throttled_and_others_are_not(app, client, moment):
    app.config["LOGIN_LIMITS_PER_ADDRESS"] = [(3, 60)]
    for name in ("alice", "bob", "demo-customs"):
        log_in(client, name, WRONG, address="10.0.0.9")
    assert log_in(client, "demo-advanced", address="10.0.0.9").status_code == 429
    assert log_in(client, "demo-advanced", address="10.0.0.10").status_code == 303


def test_an_unknown_name_costs_one_hash_like_a_known_one_and_gets_the_same_answer(client, hashes):
    unknown = log_in(client, "no-such-user", WRONG)
    assert len(hashes) == 1
    known = log_in(client, "demo-general", WRONG)
    assert len(hashes) == 2
    assert unknown.status_code == known.status_code == 400
    message = "用户名或密码错误，请重新输入"
    assert message in text(unknown) and message in text(known)


def test_unknown_names_are_throttled_like_known_ones(client, moment):
    for _ in range(20):
        log_in(client, "no-such-user", WRONG)
    assert log_in(client, "no-such-user", WRONG).status_code == 429


@pytest.mark.parametrize("username, message", [
    ("demo\x00general", "用户名不能包含控制字符"),
    ("\x00", "用户名不能包含控制字符"),
    ("x" * 65, "用户名不能超过64个字符"),
    ("y" * 200_000, "用户名不能超过64个字符"),
])
def test_nul_bytes_and_huge_names_get_400_with_a_message(app, client, username, message):
    response = log_in(client, username, WRONG)
    assert response.status_code == 400
    assert message in text(response)
    assert failures(app) == 0


def test_a_huge_password_is_refused_unhashed(client, hashes):
    response = log_in(client, "demo-general", "p" * 5000)
    assert response.status_code == 400 and "密码不能超过1024个字符" in text(response)
    assert hashes == []


# Sessions that end


def session_cookie(client):
    return client.get_cookie("session").value


def with_cookie(app, value):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_a_session_cookie_copied_before_logout_gets_the_login_page_after(app, client):
    log_in(client, "demo-general")
    copied = session_cookie(client)
    assert with_cookie(app, copied).get("/").status_code == 200  # the copy worked while the session lived
    client.post("/logout", data={"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                                                         text(client.get("/"))).group(1)})
    thief = with_cookie(app, copied)
    for path in ("/", "/apply/new", "/query"):
        response = thief.get(path)
        assert response.status_code == 302 and response.location.startswith("/login")
    assert "账户登录" in text(thief.get("/", follow_redirects=True))


def test_logout_ends_the_sessions_in_other_browsers_too(app):
    first, second = app.test_client(), app.test_client()
    log_in(first, "demo-general")
    log_in(second, "demo-general")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(first.get("/"))).group(1)
    first.post("/logout", data={"csrf_token": token})
    assert second.get("/").status_code == 302


def password_form(client, old=PASSWORD, new="new-secret-9", confirm=None):
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get("/password"))).group(1)
    return client.post("/password", data={"old_password": old, "new_password": new,
                                          "confirm": new if confirm is None else confirm, "csrf_token": token})


def test_a_password_change_ends_every_other_session_and_keeps_this_one(app):
    here, elsewhere = app.test_client(), app.test_client()
    log_in(here, "demo-general")
    log_in(elsewhere, "demo-general")
    response = password_form(here)
    assert response.status_code == 303 and response.location == "/"
    assert "密码已修改" in text(here.get("/"))
    assert elsewhere.get("/").status_code == 302
    fresh = app.test_client()
    assert log_in(fresh, "demo-general", PASSWORD).status_code == 400
    assert log_in(fresh, "demo-general", "new-secret-9").status_code == 303


@pytest.mark.parametrize("old, new, confirm, message", [
    (WRONG, "new-secret-9", None, "旧密码不正确"),
    (PASSWORD, "short", None, "新密码长度应为8至1024个字符"),
    (PASSWORD, "new-secret-9", "new-secret-0", "两次输入的新密码不一致"),
    (PASSWORD, PASSWORD, None, "新密码不能与旧密码相同"),
])
def test_a_refused_password_change_says_why_and_changes_nothing(app, general, old, new, confirm, message):
    response = password_form(general, old, new, confirm)
    assert response.status_code == 400 and message in text(response)
    with app.app_context():
        assert User.by_username("demo-general").check_password(PASSWORD)


def test_the_password_page_has_the_three_labelled_fields(general):
    page = text(general.get("/password"))
    for label in ("旧密码", "新密码", "确认新密码"):
        assert f">{label}</label>" in page
    assert 'href="/password"' in text(general.get("/"))


def test_a_session_idle_for_30_minutes_ends(client, moment):
    log_in(client, "demo-general")
    moment.advance(minutes=29)
    assert client.get("/").status_code == 200
    moment.advance(minutes=29)  # 58 minutes after login, but only 29 idle
    assert client.get("/").status_code == 200
    moment.advance(minutes=30)
    response = client.get("/query")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert "您已较长时间未操作" in text(client.get(response.location))


def test_the_idle_time_is_configurable(app, client, moment):
    app.config["SESSION_IDLE_MINUTES"] = 5
    log_in(client, "demo-general")
    moment.advance(minutes=5)
    assert client.get("/").status_code == 302


def test_a_busy_session_still_ends_12_hours_after_login(client, moment):
    log_in(client, "demo-general")
    for _ in range(35):  # a request every 20 minutes: 11 h 40 min
        moment.advance(minutes=20)
        assert client.get("/").status_code == 200
    moment.advance(minutes=20)
    response = client.get("/")
    assert response.status_code == 302
    assert "登录时间已超过上限" in text(client.get(response.location))


def test_disabling_a_user_ends_their_sessions_and_refuses_their_login(app, client):
    log_in(client, "demo-general")
    with app.app_context():
        User.by_username("demo-general").disable()
        db.session.commit()
    assert client.get("/").status_code == 302
    response = log_in(app.test_client(), "demo-general")
    assert response.status_code == 403 and "该账户已停用" in text(response)


def test_an_htmx_request_of_an_ended_session_loads_the_login_page_whole(client, moment):
    log_in(client, "demo-general")
    token = re.search(r'"X-CSRFToken": "([^"]+)"', text(client.get("/apply/new"))).group(1)
    moment.advance(hours=1)
    response = client.post("/apply/new", data={"action": "lookup"}, headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost/apply/new", "X-CSRFToken": token})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/apply/new"


def test_the_csrf_token_changes_at_login(client):
    before = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get("/login"))).group(1)
    log_in(client, "demo-general")
    after = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get("/"))).group(1)
    assert before != after
    # The token from before login is no longer accepted.
    assert client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": before}).status_code == 400


def test_the_language_survives_login(client):
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get("/login"))).group(1)
    client.post("/lang", data={"lang": "en", "next": "/login", "csrf_token": token})
    log_in(client, "demo-general")
    assert 'lang="en"' in text(client.get("/"))


@pytest.mark.parametrize("value, secure", [("1", True), ("0", False), (None, False)])
def test_secure_session_cookie_comes_from_the_environment(tmp_path, monkeypatch, value, secure):
    monkeypatch.setenv("SECRET_KEY", "x")
    if value is None:
        monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    else:
        monkeypatch.setenv("SESSION_COOKIE_SECURE", value)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3"})
    assert app.config["SESSION_COOKIE_SECURE"] is secure


def test_behind_a_proxy_the_client_address_is_throttled_not_the_proxy(seeded_sqlite, tmp_path, moment):
    import shutil

    from tests.conftest import make_app

    shutil.copy(seeded_sqlite, tmp_path / "p.sqlite3")
    app = make_app(f"sqlite:///{tmp_path}/p.sqlite3", PROXY_COUNT=1, LOGIN_LIMITS_PER_ADDRESS=[(2, 60)])
    client = app.test_client()

    def attempt(forwarded, password=WRONG):
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get("/login"))).group(1)
        return client.post("/login", data={"username": "demo-customs", "password": password, "csrf_token": token},
                           headers={"X-Forwarded-For": forwarded})

    attempt("203.0.113.5")
    attempt("203.0.113.5")
    assert attempt("203.0.113.5").status_code == 429
    assert attempt("198.51.100.7", PASSWORD).status_code == 303
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# Security headers


def assert_page_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_a_logged_in_page_has_the_headers_and_is_not_stored(general):
    response = general.get("/")
    assert_page_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_the_public_pages_have_the_headers(client):
    for path in ("/login", "/port-hours", "/timetables", "/no-such-page"):
        assert_page_headers(client.get(path))


def test_static_files_are_nosniff_and_stay_cacheable(general):
    response = general.get("/static/js/site.js")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in (response.headers.get("Cache-Control") or "")


def test_a_download_is_nosniff_sandboxed_and_not_stored(general, app):
    data = form_data(general, action="save")
    data["attachments"] = [(io.BytesIO(small_pdf()), "清单.pdf")]
    general.post("/apply/new", data=data, content_type="multipart/form-data")
    application = stored(app, contact_name="张三")
    with app.app_context():
        file_id = db.session.execute(select(Attachment.id).where(Attachment.application_id == application.id)).scalar()
    response = general.get(f"/apply/{application.id}/files/{file_id}")
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_no_page_has_inline_script_style_or_handlers(client, auth, app):
    pages = [text(client.get(path)) for path in ("/login", "/port-hours", "/timetables")]
    auth.login("demo-general")
    draft = stored(app, status=DRAFT)
    pages += [text(client.get(path)) for path in ("/", "/apply/new", "/query", f"/apply/{draft.id}", "/password")]
    auth.logout()
    auth.login("demo-customs")
    pages += [text(client.get(path)) for path in ("/review", f"/review/{stored(app, status=SUBMITTED).id}")]
    for path, page in enumerate(pages):
        assert re.findall(r"<script(?![^>]*\bsrc=)", page) == [], path
        assert "<style" not in page and not re.search(r"\sstyle=", page), path
        assert not re.search(r"<[^>]+\son[a-z]+=", page), path
        assert "htmx-config" in page and '"allowEval":false' in page


# Too-large uploads


def test_a_too_large_upload_says_which_limit_and_how_to_upload_in_parts(general):
    data = form_data(general, action="upload")
    data["attachments"] = [(io.BytesIO(b"%PDF-" + b"0" * (5 * 1024 * 1024)), f"{i}.pdf") for i in range(5)]
    response = general.post("/apply/new", data=data, content_type="multipart/form-data")
    page = text(response)
    assert response.status_code == 413
    assert "超过了每次提交 24M 的上限" in page
    assert "每个PDF文件不能超过 4M" in page and "最多上传 5 个PDF文件" in page
    assert "分几次上传" in page and "暂存" in page and "后退" in page


def test_a_too_long_typed_field_is_named_as_the_cause(general):
    response = general.post("/apply/new", data=form_data(general, reason_text="事" * 300_000),
                            content_type="multipart/form-data")
    assert response.status_code == 413
    assert "填写内容过长" in text(response)


def test_the_file_boxes_carry_their_limits_for_the_browser_check(general):
    page = text(general.get("/apply/new"))
    box = re.search(r'<input[^>]*name="attachments"[^>]*>', page).group(0)
    assert 'data-max-files="5"' in box and 'data-max-file-bytes="4194304"' in box
    assert 'data-max-request-bytes="25165824"' in box and "data-too-big=" in box


def test_with_javascript_too_many_files_are_caught_before_sending_and_the_form_stays(browser, live_server, tmp_path):
    context = browser.new_context(base_url=live_server, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text
            else None)
    try:
        browser_login(page, "demo-general")
        page.goto("/apply/new")
        assert page.evaluate("window.htmx.config.allowEval === false && !window.htmx.config.includeIndicatorStyles")
        page.get_by_label("联系人姓名").fill("王五")
        paths = []
        for i in range(6):
            path = tmp_path / f"{i}.pdf"
            path.write_bytes(small_pdf())
            paths.append(path)
        page.locator("#attachments").set_input_files(paths)
        page.get_by_role("button", name="上传PDF").click()
        message = page.locator("#attachments-upload-error")
        message.wait_for()
        assert "最多还能上传5个PDF文件，本次选择了6个" in message.inner_text()
        assert page.url.endswith("/apply/new") and page.get_by_label("联系人姓名").input_value() == "王五"

        big = tmp_path / "big.pdf"
        big.write_bytes(b"%PDF-" + b"0" * (5 * 1024 * 1024))
        page.locator("#attachments").set_input_files([big])
        assert "big.pdf" in message.inner_text() and "超过单个文件4M的上限" in message.inner_text()
        page.locator("#attachments").set_input_files([paths[0]])
        assert page.locator("#attachments-upload-error").count() == 0
        assert violations == []
    finally:
        context.close()


def test_on_postgresql_a_nul_byte_is_a_400_and_the_throttle_counts(pg_app, moment):
    client = pg_app.test_client()
    response = log_in(client, "demo\x00general", WRONG)
    assert response.status_code == 400 and "用户名不能包含控制字符" in text(response)
    for _ in range(20):
        log_in(client, "demo-general", WRONG)
    assert log_in(client, "demo-general").status_code == 429
    moment.advance(seconds=61)
    assert log_in(client, "demo-general").status_code == 303


def test_messages_waiting_for_a_page_are_bounded_so_the_session_cookie_stays_small(general):
    # A client that posts again and again without showing a page would otherwise grow the cookie past what a
    # browser keeps (4 KB), and lose the session.
    with general.session_transaction() as state:
        state["_flashes"] = [("success", f"申报成功 {n}") for n in range(30)]
    general.get("/static/css/site.css")
    with general.session_transaction() as state:
        assert [message for _, message in state["_flashes"]] == [f"申报成功 {n}" for n in range(20, 30)]
    page = general.get("/").get_data(as_text=True)
    assert "申报成功 29" in page and "申报成功 19" not in page


def test_a_session_keeps_one_csrf_token_and_a_new_session_gets_another(client):
    # The signed token is kept per session (web.cached_csrf_tokens): the same on every page, valid for a post,
    # and never handed to the next session after logout and login.
    log_in(client, "demo-general")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get("/"))).group(1)
    for path in ("/query", "/apply/new", "/"):
        assert re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get(path))).group(1) == token
    assert client.post("/lang", data={"lang": "zh_CN", "next": "/", "csrf_token": token}).status_code == 303
    client.post("/logout", data={"csrf_token": token})
    log_in(client, "demo-general")
    again = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get("/"))).group(1)
    assert again != token
    assert client.post("/lang", data={"lang": "zh_CN", "next": "/", "csrf_token": token}).status_code == 400
    assert client.post("/lang", data={"lang": "zh_CN", "next": "/", "csrf_token": again}).status_code == 303
