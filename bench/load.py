"""N sessions at once, each logging in and creating + submitting an application, through a real waitress server.

    .venv/bin/python bench/load.py [--sessions 50] [--threads 8]

The server runs on a freshly seeded scratch database: SQLite, or PostgreSQL when DATABASE_URL is set (its tables
are dropped and rebuilt). Prints `errors=… duplicates=… lost=… p95_ms=…`: sessions that got any unexpected
answer, pre-entry numbers given to more than one session, sessions told "申报成功" whose application is not stored
as submitted, and the 95th percentile of the create + submit request.
"""
import argparse
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "demo1234"
# Enterprise accounts that may start applications, each with a consignee that is not itself.
ACCOUNTS = (("demo-general", "1201960456"), ("demo-advanced", "1201960456"), ("demo-consignee", "5001960123"))
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_NUMBER = re.compile(r"YTG\d{15}")


@dataclass
class Flow:
    """What one session saw."""

    index: int
    username: str
    tag: str = ""
    statuses: list = field(default_factory=list)
    error: str = ""
    submit_ms: float | None = None
    application_id: int | None = None
    number: str | None = None

    @property
    def ok(self):
        return not self.error and self.number is not None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One session: its own cookies, no automatic redirects, every status kept."""

    def __init__(self, base_url, flow):
        self.base_url, self.flow = base_url, flow
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)

    def request(self, path, data=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base_url + path, data=body, timeout=120) as response:
                status, text, headers = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, text, headers = error.code, error.read().decode(errors="replace"), error.headers
        self.flow.statuses.append((path, status))
        return status, text, headers

    def token(self, path):
        status, page, _ = self.request(path)
        match = _TOKEN.search(page)
        if status != 200 or not match:
            raise AssertionError(f"GET {path} answered {status} without a form")
        return match.group(1)


def application_form(token, consignee, tag):
    """A valid 提交 (clock frozen at 2026-11-23 10:00): Chongqing air import on Wednesday 18:00."""
    return {
        "csrf_token": token, "version": "", "consignee_code": consignee, "contact_name": "张三",
        "contact_mobile": "13812345678", "declaration_port": "8000", "entry_port": "8000", "transport_mode": "5",
        "start_date": "2026-11-25", "start_hour": "18", "reason_category": "perishable", "reason_text": tag,
        "direction": "I", "goods-0-name": "蜜枣", "goods-0-hs_code": "2006001000", "action": "submit",
    }


def create_and_submit(base_url, flow, consignee, line):
    """Log in, open 新增, then (with every other session at once) 提交; read the number from the page."""
    browser, arrived = Browser(base_url, flow), False
    try:
        token = browser.token("/login")
        status, _, _ = browser.request("/login", {"username": flow.username, "password": PASSWORD,
                                                  "csrf_token": token})
        if status != 303:
            raise AssertionError(f"login answered {status}")
        token = browser.token("/apply/new")
        arrived = True
        line.arrive()
        started = time.perf_counter()
        status, page, headers = browser.request("/apply/new", application_form(token, consignee, flow.tag))
        flow.submit_ms = (time.perf_counter() - started) * 1000
        if status != 303:
            raise AssertionError(f"提交 answered {status}")
        flow.application_id = int(headers["Location"].rstrip("/").rsplit("/", 1)[1])
        status, page, _ = browser.request(headers["Location"])
        numbers = _NUMBER.findall(page) if status == 200 and "申报成功" in page else []
        if not numbers:
            raise AssertionError(f"the application page ({status}) does not say 申报成功 with a number")
        flow.number = numbers[0]
    except Exception as error:  # noqa: BLE001 (every failure of a session is counted, none stops the others)
        flow.error = f"{type(error).__name__}: {error}"
        if not arrived:
            line.drop_out()


class StartLine:
    """Holds the sessions until every one is ready, so that their 提交 requests meet; a failed session drops out."""

    def __init__(self, parties):
        self.condition, self.expected = threading.Condition(), parties

    def arrive(self):
        self.drop_out()
        with self.condition:
            self.condition.wait_for(lambda: self.expected <= 0, timeout=120)

    def drop_out(self):
        with self.condition:
            self.expected -= 1
            self.condition.notify_all()


def run_sessions(base_url, sessions, run_tag=""):
    """Run ``sessions`` create + submit flows at once against ``base_url``; return their Flows."""
    flows = [Flow(i, ACCOUNTS[i % len(ACCOUNTS)][0], tag=f"压测{run_tag}#{i}") for i in range(sessions)]
    line = StartLine(sessions)
    threads = [threading.Thread(target=create_and_submit,
                                args=(base_url, flow, ACCOUNTS[flow.index % len(ACCOUNTS)][1], line))
               for flow in flows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return flows


def stored_submissions(app, flows):
    """The stored (pre-entry number, status, reason text) of the applications the flows were sent to."""
    from sqlalchemy import select

    from extensions import db
    from models import Application

    ids = [f.application_id for f in flows if f.application_id is not None]
    with app.app_context():
        rows = db.session.execute(select(Application.id, Application.pre_entry_number, Application.status,
                                         Application.reason_text).where(Application.id.in_(ids))).all()
        db.session.remove()
    return {row.id: row for row in rows}


def summary(flows, stored):
    """(errors, duplicates, lost) of a run, from what the sessions saw and what the database holds."""
    errors = sum(1 for f in flows if not f.ok)
    given = Counter(f.number for f in flows if f.ok)
    duplicates = sum(count - 1 for count in given.values())
    lost = sum(1 for f in flows if f.ok and not (
        f.application_id in stored and stored[f.application_id].status == "submitted"
        and stored[f.application_id].pre_entry_number == f.number and stored[f.application_id].reason_text == f.tag))
    return errors, duplicates, lost


def percentile(samples, share):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(url, threads, log):
    """waitress on 127.0.0.1 in its own process, on this database, clock frozen; returns (process, base URL)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "FROZEN_NOW": "2026-11-23T10:00", "SECRET_KEY": "bench-load",
           "DEMO_MODE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "waitress", "--host", "127.0.0.1", f"--port={port}", f"--threads={threads}",
         "--connection-limit=1000", "--call", "app:create_app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base_url + "/login", timeout=2).close()
            return process, base_url
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start; see " + log.name)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import scratch_app

    from extensions import db

    app = scratch_app()  # DATABASE_URL (PostgreSQL), else a scratch SQLite file, freshly migrated and seeded
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # SQLite: checkpoint the write-ahead log before the server opens the file
    with tempfile.NamedTemporaryFile("w+", prefix="yuyue-load-", suffix=".log", delete=False) as log:
        process, base_url = serve(url, args.threads, log)
        try:
            started = time.perf_counter()
            flows = run_sessions(base_url, args.sessions)
            seconds = time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(timeout=30)
    errors, duplicates, lost = summary(flows, stored_submissions(app, flows))
    with app.app_context():
        db.engine.dispose()
    if url.startswith("sqlite:///"):
        shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
    statuses = Counter(status for f in flows for _, status in f.statuses)
    database = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"{args.sessions} sessions create + submit at once on {database}, waitress {args.threads} threads, "
          f"{seconds:.1f} s; statuses {dict(sorted(statuses.items()))}")
    for flow in [f for f in flows if f.error][:5]:
        print(f"  session {flow.index} ({flow.username}): {flow.error}")
    p95 = percentile([f.submit_ms for f in flows if f.submit_ms is not None], 0.95)
    print(f"errors={errors} duplicates={duplicates} lost={lost} p95_ms={p95:.0f}")
    if errors or duplicates or lost:
        print("server log: " + log.name)
        sys.exit(1)
    os.unlink(log.name)


if __name__ == "__main__":
    main()
