"""Fixtures: the app on a fresh copy of the seeded demo database, a client, logins, a live server, PostgreSQL."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from extensions import db

FROZEN_NOW = "2026-11-23T10:00"
PASSWORD = "demo1234"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI") == "true"


def missing(reason):
    """Skip a test whose tool is missing; under CI=true that is a failure, not a skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: missing tools fail the run instead of skipping)")
    pytest.skip(reason)


def make_app(database_uri, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "FROZEN_NOW": FROZEN_NOW,
        "DEMO_MODE": True,
        **extra,
    }
    return create_app(config)


def build_database(app):
    """Apply the migrations and seed the demo, as `make run` does."""
    from flask_migrate import upgrade

    import demo

    with app.app_context():
        upgrade()
        demo.seed()
        db.session.commit()
        db.session.remove()
        # Closing the last connection checkpoints SQLite's write-ahead log into the file that tests copy.
        db.engine.dispose()


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory):
    """One migrated and seeded SQLite file; every test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "seeded.sqlite3"
    build_database(make_app(f"sqlite:///{path}"))
    return path


@pytest.fixture()
def app(seeded_sqlite, tmp_path):
    """The site on a fresh copy of the seeded demo database, clock frozen at 2026-11-23 10:00."""
    path = tmp_path / "site.sqlite3"
    shutil.copy(seeded_sqlite, path)
    application = make_app(f"sqlite:///{path}")
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


def csrf_token(client, path):
    """The CSRF token of the form on ``path``, read as a browser would: the one way tests get a token."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


class Auth:
    """Log a test client in and out through the real login form."""

    def __init__(self, client):
        self.client = client

    def login(self, username="demo-general", password=PASSWORD):
        token = self.csrf_token_from("/login")
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def csrf_token_from(self, path):
        return csrf_token(self.client, path)

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf_token_from("/")})


@pytest.fixture()
def auth(client):
    return Auth(client)


@pytest.fixture()
def general(client, auth):
    """A client logged in as demo-general (一般信用企业 operator)."""
    auth.login("demo-general")
    return client


@pytest.fixture()
def live_server(app):
    """The app served on 127.0.0.1 in a thread, for the browser."""
    yield from serve(app)


def serve(app):
    """Serve ``app`` on 127.0.0.1 with a threaded server (several requests at a time, as in production): yield
    its base URL, then stop it. For fixtures: ``yield from serve(app)``."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(params=[True, False], ids=["js-on", "js-off"])
def page(request, browser, live_server):
    """A fresh browser page on the live server, once with JavaScript on and once with it off."""
    context = browser.new_context(java_script_enabled=request.param, base_url=live_server, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.js_enabled = request.param
    yield page
    context.close()


def ids_with_status(app, status, declarant="5001960123"):
    """The ids of an enterprise's applications in a stored status (demo-general's by default)."""
    from sqlalchemy import select

    from models import Application, Enterprise

    with app.app_context():
        firm = Enterprise.by_code(declarant)
        return db.session.execute(
            select(Application.id).where(Application.declarant_id == firm.id, Application.status == status)
            .order_by(Application.id)
        ).scalars().all()


def browser_login(page, username, password=PASSWORD):
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登 录").click()


def switch_to_english(page):
    """Press the header's English switch; the choice is kept in the session (and survives a login)."""
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("html[lang=en]")


# PostgreSQL: a throwaway cluster from Debian's binaries, unless DATABASE_URL names one.


def _pg_bin():
    for version in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (version / "initdb").exists():
            return version
    return None


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL URL: DATABASE_URL if given, else a throwaway cluster started for this session."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        yield os.environ["DATABASE_URL"]
        return
    pg_bin = _pg_bin()
    if pg_bin is None:
        missing("PostgreSQL binaries are not installed (apt-get install postgresql)")
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
    else:
        run_as = []
    root = Path(tempfile.mkdtemp(prefix="yuyue-pg-"))
    if run_as:
        shutil.chown(root, "postgres")
    data = root / "data"
    subprocess.run(
        run_as + [str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
        check=True, capture_output=True, timeout=120,
    )
    for attempt in range(5):
        # A port free a moment ago may be taken by another cluster (parallel test runs) before ours binds it.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        started = subprocess.run(
            run_as + [str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60", "start",
                      "-o", f"-k {root} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"],
            capture_output=True, timeout=120,
        )
        if started.returncode == 0:
            break
    else:
        raise RuntimeError(f"PostgreSQL did not start: {(root / 'log').read_text()[-2000:]}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(run_as + [str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def pg_app(postgres_url):
    """The site on a freshly migrated and seeded PostgreSQL database."""
    yield from fresh_postgres_site(postgres_url)


def fresh_postgres_site(postgres_url):
    """Migrate and seed the PostgreSQL database from scratch; yield the site on it, then let go of its connections.
    For fixtures of any scope: ``yield from fresh_postgres_site(postgres_url)``."""
    application = make_app(postgres_url)
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
    build_database(application)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
