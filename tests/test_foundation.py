"""The foundation: login, roles, home, language switch, error pages, commands, configuration, demo."""
from datetime import date
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

import clock
from extensions import db
from models import Application, CalendarYear, Counter, HSCode, Port, WorkingDay
from rules import ACCEPTED, APPROVED, CANCELLED, CLEARED, CLEARED_NO_FEEDBACK, DRAFT, RETURNED, SUBMITTED

ENTERPRISE_USERS = ["demo-advanced", "demo-general", "demo-dishonest", "demo-unqualified"]


def test_login_page_shows_demo_accounts_only_in_demo_mode(client, app):
    page = client.get("/login").get_data(as_text=True)
    assert "demo-general" in page and "demo1234" in page
    app.config["DEMO_MODE"] = False
    page = client.get("/login").get_data(as_text=True)
    assert "demo1234" not in page
    assert 'name="username"' in page and 'name="password"' in page


@pytest.mark.parametrize("username", ENTERPRISE_USERS)
def test_enterprise_users_see_announcements_and_the_application_menu(client, auth, username):
    response = auth.login(username)
    assert response.status_code == 303 and response.location == "/"
    page = client.get("/").get_data(as_text=True)
    assert "系统公告" in page and "关于“互联网+预约通关”的公告" in page
    assert 'href="/apply/new"' in page and "预约通关查询" in page


@pytest.mark.parametrize("username", ["demo-customs", "demo-admin"])
def test_staff_see_announcements_without_the_application_menu(client, auth, username):
    auth.login(username)
    page = client.get("/").get_data(as_text=True)
    assert "系统公告" in page
    assert 'href="/apply/new"' not in page


@pytest.mark.parametrize("username, password", [("demo-general", "wrong"), ("nobody", "demo1234")])
def test_wrong_credentials_get_one_message_that_does_not_say_which_half(client, auth, username, password):
    response = auth.login(username, password)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "用户名或密码错误，请重新输入" in page
    assert f'value="{username}"' in page  # what was typed stays
    assert client.get("/").status_code == 302  # still logged out


def test_logout_is_a_post_and_ends_the_session(general, auth):
    assert general.get("/logout").status_code == 405
    response = auth.logout()
    assert response.status_code == 303
    assert general.get("/").status_code == 302


def test_a_post_without_csrf_token_is_refused(general):
    response = general.post("/logout")
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    assert general.get("/").status_code == 200  # still logged in


def test_pages_need_login_and_the_right_role(client, auth):
    assert client.get("/apply/new").status_code == 302
    assert client.get("/query").status_code == 302
    auth.login("demo-customs")
    assert client.get("/apply/new").status_code == 403
    assert client.get("/query").status_code == 403


def test_public_pages_need_no_login(client):
    assert client.get("/port-hours").status_code == 200
    assert client.get("/timetables").status_code == 200


def test_language_switch_shows_english_and_back(general, auth):
    token = auth.csrf_token_from("/")
    response = general.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token})
    assert response.status_code == 303 and response.location == "/"
    page = general.get("/").get_data(as_text=True)
    assert "Announcements" in page and "Appointment application" in page
    assert 'lang="en"' in page
    general.post("/lang", data={"lang": "zh_CN", "next": "/", "csrf_token": token})
    assert "系统公告" in general.get("/").get_data(as_text=True)


def test_styled_404(general):
    response = general.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


@pytest.mark.parametrize("error, status, heading", [
    (RuntimeError("boom"), 500, "系统繁忙"),
    (StaleDataError("version mismatch"), 409, "记录已被修改"),  # two people saved the same record
])
def test_error_pages_roll_the_session_back(seeded_sqlite, tmp_path, error, status, heading):
    import shutil

    from tests.conftest import make_app

    path = tmp_path / "e.sqlite3"
    shutil.copy(seeded_sqlite, path)
    app = make_app(f"sqlite:///{path}", TESTING=False)

    @app.route("/boom")
    def boom():
        db.session.add(Port(code="9999", name="半途而废"))
        db.session.flush()
        raise error

    response = app.test_client().get("/boom")
    assert response.status_code == status
    assert heading in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Port, "9999") is None


def test_frozen_clock(app):
    with app.app_context():
        assert clock.now().isoformat() == "2026-11-23T10:00:00"
        app.config["FROZEN_NOW"] = None
        assert clock.now().year >= 2026


def test_secret_key_is_generated_once_into_instance(tmp_path, monkeypatch):
    import config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.from_environment(tmp_path)["SECRET_KEY"]
    assert len(first) == 64 and (tmp_path / "secret_key").read_text() == first
    assert config.from_environment(tmp_path)["SECRET_KEY"] == first
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert config.from_environment(tmp_path)["SECRET_KEY"] == "from-env"


def test_demo_mode_is_off_unless_asked(tmp_path, monkeypatch):
    import config

    monkeypatch.delenv("DEMO_MODE", raising=False)
    assert config.from_environment(tmp_path)["DEMO_MODE"] is False
    monkeypatch.setenv("DEMO_MODE", "1")
    assert config.from_environment(tmp_path)["DEMO_MODE"] is True


def test_database_url_selects_postgresql_with_psycopg3(tmp_path, monkeypatch):
    import config

    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert config.from_environment(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    monkeypatch.delenv("DATABASE_URL")
    assert config.from_environment(tmp_path)["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def _working_days(app, port, first, last):
    with app.app_context():
        return {
            d.day
            for d in db.session.execute(
                select(WorkingDay).where(WorkingDay.port_code == port, WorkingDay.day.between(first, last))
            ).scalars()
        }


def test_calendar_generate_follows_the_holiday_table(app):
    result = app.test_cli_runner().invoke(args=["calendar", "generate", "--port", "0500", "--year", "2026"])
    assert result.exit_code == 0, result.output
    days = _working_days(app, "0500", date(2026, 9, 28), date(2026, 10, 12))
    assert date(2026, 10, 10) in days  # Saturday, adjusted working day (调休)
    assert date(2026, 10, 5) not in days  # National Day holiday
    assert date(2026, 10, 11) not in days  # ordinary Sunday
    assert date(2026, 9, 30) in days


def test_calendar_generate_refuses_an_unknown_year_unless_provisional(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["calendar", "generate", "--port", "0500", "--year", "2027"])
    assert result.exit_code != 0
    assert "does not cover 2027" in result.output and "--provisional" in result.output
    assert not _working_days(app, "0500", date(2027, 1, 1), date(2027, 12, 31))
    result = runner.invoke(args=["calendar", "generate", "--port", "0500", "--year", "2027", "--provisional"])
    assert result.exit_code == 0 and "provisional" in result.output
    with app.app_context():
        assert db.session.get(CalendarYear, ("0500", 2027)).provisional is True
    # R11: Mon-Fri minus the statutory holidays: 元旦 (a Friday) is off, the Monday after works.
    assert _working_days(app, "0500", date(2027, 1, 1), date(2027, 1, 4)) == {date(2027, 1, 4)}


def test_provisional_days_are_marked_on_the_port_hours_page(client):
    page = client.get("/port-hours?port_code=0400&date_from=2027-01-01&date_to=2027-01-05").get_data(as_text=True)
    assert "2027-01-04: 上班时间09:00--- 下班时间16:30" in page
    assert "暂定" in page


def test_hs_import_adds_and_updates_and_reports_bad_rows(app, tmp_path):
    csv_file = tmp_path / "hs.csv"
    csv_file.write_text("code,name,note\n2006001000,蜜枣（更新）,\n9999999999,测试商品,备注\n12345,坏行,\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["hs", "import", str(csv_file)])
    assert "2 HS codes loaded" in result.output and "lines [4]" in result.output
    with app.app_context():
        assert db.session.get(HSCode, "2006001000").name == "蜜枣（更新）"
        assert db.session.get(HSCode, "9999999999").note == "备注"


def test_reference_data_is_loaded(app):
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(HSCode)).scalar() >= 300
        chapters = {c[:2] for (c,) in db.session.execute(select(HSCode.code))}
        assert len(chapters) >= 20
        assert db.session.get(HSCode, "2006009000").name == "其他糖渍蔬菜、水果、坚果、果皮"
        assert db.session.get(Port, "8000").name == "重庆关区"


def test_demo_has_every_status_and_reset_brings_it_back(app):
    runner = app.test_cli_runner()
    with app.app_context():
        shown = {a.current_status for a in db.session.execute(select(Application)).scalars()}
        assert shown == {DRAFT, SUBMITTED, ACCEPTED, APPROVED, CLEARED, RETURNED, CANCELLED, CLEARED_NO_FEEDBACK}
        before = db.session.execute(select(func.count(Application.id))).scalar()
        counter = db.session.get(Counter, "pre_entry").value
        db.session.delete(db.session.execute(select(Application).limit(1)).scalar_one())
        db.session.commit()
    result = runner.invoke(args=["demo", "--reset"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(select(func.count(Application.id))).scalar() == before
        # Pre-entry numbers are unique forever: the reset does not reuse them.
        assert db.session.get(Counter, "pre_entry").value == counter + before


def test_demo_if_empty_leaves_existing_data_alone(app):
    result = app.test_cli_runner().invoke(args=["demo", "--if-empty"])
    assert "not reseeded" in result.output


@pytest.mark.parametrize("target", ["//evil.example/x", "/\t/evil.example/x", "/\\evil.example", "https://evil.example/", "/%09/evil"])
def test_login_never_redirects_off_site(client, auth, target):
    token = auth.csrf_token_from("/login")
    response = client.post("/login", query_string={"next": target},
                           data={"username": "demo-general", "password": "demo1234", "csrf_token": token})
    assert response.status_code == 303
    location = urlsplit(response.location)
    assert not location.scheme and not location.netloc and not response.location.startswith("//")
    assert "\t" not in response.location and "\\" not in response.location


def test_login_follows_a_local_next(client, auth):
    token = auth.csrf_token_from("/login")
    response = client.post("/login?next=/query", data={"username": "demo-general", "password": "demo1234", "csrf_token": token})
    assert response.location == "/query"


def test_migrations_match_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
