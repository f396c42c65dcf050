"""Hostile uploads against a real server: N parallel uploads of five 100,000-page PDFs (each ~0.9 MB) while
a poller keeps loading the login page; prints the slowest login and the server's peak memory.

    .venv/bin/python bench/uploads.py [--uploads 8] [--files 5] [--threads 8] [--same-user]

The server is waitress (threads as in `make run`) in its own process on a scratch seeded SQLite database.
Each upload comes from its own user (bench-1, bench-2, ...), so only the server-wide cap on PDF checks
holds them back; --same-user sends them all as demo-general, where the per-user cap applies too.
Memory is the server process's resident set, alone and with its PDF worker processes, sampled every 20 ms.
"""
import argparse
import http.cookiejar
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

PASSWORD = "demo1234"


def serve(port, threads, users):
    """The server process: a scratch seeded site with `users` extra enterprise users, served by waitress."""
    sys.path.insert(0, str(HERE))
    from common import scratch_app
    from waitress import serve as waitress_serve

    from extensions import db
    from models import User

    app = scratch_app()
    with app.app_context():
        model = db.session.execute(db.select(User).filter_by(username="demo-general")).scalar_one()
        for i in range(1, users + 1):
            user = User(username=f"bench-{i}", display_name=f"bench-{i}", role=model.role, enterprise=model.enterprise)
            user.set_password(PASSWORD)
            db.session.add(user)
        db.session.commit()
    waitress_serve(app, host="127.0.0.1", port=port, threads=threads, max_request_body_size=64 << 20,
                   _quiet=True)


class Session:
    """A browser-like client: cookies, CSRF tokens read from the pages."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path):
        with self.opener.open(self.base + path, timeout=120) as response:
            return response.status, response.read().decode()

    def post(self, path, body, content_type):
        request = urllib.request.Request(self.base + path, data=body, headers={"Content-Type": content_type})
        try:
            with self.opener.open(request, timeout=300) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def token(self, path):
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.get(path)[1]).group(1)

    def login(self, username):
        body = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrf_token": self.token("/login")})
        status, _ = self.post("/login", body.encode(), "application/x-www-form-urlencoded")
        assert status in (200, 303), f"login of {username} failed: {status}"


def multipart(fields, files):
    """A multipart/form-data body: (body, content type)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, content in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/pdf\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def form(token):
    # A malformed mobile number: the form is refused and nothing is written, so only the PDF checks count.
    return {"csrf_token": token, "version": "", "consignee_code": "1201960456", "contact_name": "张三",
            "contact_mobile": "123", "declaration_port": "8000", "entry_port": "8000", "transport_mode": "5",
            "start_date": "2026-11-25", "start_hour": "18", "reason_category": "perishable",
            "reason_text": "进口冰鲜三文鱼", "direction": "I", "goods-0-name": "蜜枣", "goods-0-hs_code": "2006001000",
            "action": "upload"}


def process_tree_rss(pid):
    """(resident set of `pid`, of `pid` and all its descendants) in bytes, from /proc."""
    parents, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent and child not in tree]
        tree.update(children)
        frontier.extend(children)
    return rss.get(pid, 0), sum(rss.get(p, 0) for p in tree)


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=8)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (make run uses 8)")
    parser.add_argument("--same-user", action="store_true", help="all uploads as demo-general")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.threads, args.uploads)
        return

    from tests.pdf_corpus import many_pages

    pdf = many_pages()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--threads", str(args.threads),
                               "--uploads", str(args.uploads)])
    try:
        for _ in range(600):
            try:
                Session(base).get("/login")
                break
            except OSError:
                time.sleep(0.1)
        run(args, base, server.pid, pdf)
    finally:
        server.terminate()
        server.wait(timeout=10)


def run(args, base, server_pid, pdf):
    sessions = []
    for i in range(args.uploads):
        session = Session(base)
        session.login("demo-general" if args.same_user else f"bench-{i + 1}")
        sessions.append((session, session.token("/apply/new")))
    baseline = [timed_login(base) for _ in range(20)]

    done = threading.Event()
    logins, peaks = [], [0, 0]

    def poll_login():
        while not done.is_set():
            logins.append(timed_login(base))
            time.sleep(0.05)

    def sample_memory():
        while not done.is_set():
            own, tree = process_tree_rss(server_pid)
            peaks[0], peaks[1] = max(peaks[0], own), max(peaks[1], tree)
            time.sleep(0.02)

    results = [None] * args.uploads

    def upload(i):
        session, token = sessions[i]
        body, content_type = multipart(form(token), [("attachments", f"扫描{n}.pdf", pdf) for n in range(1, args.files + 1)])
        started = time.perf_counter()
        status, page = session.post("/apply/new", body, content_type)
        results[i] = (status, time.perf_counter() - started, len(set(re.findall(r"扫描(\d+)\.pdf 超过500页", page))),
                      "系统繁忙" in page, len(set(re.findall(r"扫描(\d+)\.pdf (?:未能检查|结构过于复杂)", page))))

    watchers = [threading.Thread(target=poll_login), threading.Thread(target=sample_memory)]
    uploaders = [threading.Thread(target=upload, args=(i,)) for i in range(args.uploads)]
    for thread in watchers + uploaders:
        thread.start()
    for thread in uploaders:
        thread.join()
    time.sleep(0.5)
    done.set()
    for thread in watchers:
        thread.join()

    print(f"{args.uploads} parallel uploads of {args.files} x {len(pdf):,}-byte 100,000-page PDFs, "
          f"waitress threads={args.threads}, {'one user' if args.same_user else 'one user each'}")
    for i, (status, seconds, too_many, busy, unchecked) in enumerate(results, 1):
        outcome = "refused: server busy, try again" if busy else f"{too_many} refused as over 500 pages"
        print(f"  upload {i}: HTTP {status} in {seconds:.2f}s: {outcome}"
              f"{f', {unchecked} not checked in time' if unchecked else ''}")
    print(f"login page before: median {statistics.median(baseline) * 1000:.0f} ms; during: {len(logins)} loads, "
          f"median {statistics.median(logins) * 1000:.0f} ms")
    print(f"max_login_ms={max(logins) * 1000:.0f} peak_server_rss_mb={peaks[0] / 2**20:.0f} "
          f"peak_server_with_workers_rss_mb={peaks[1] / 2**20:.0f}")


def timed_login(base):
    started = time.perf_counter()
    with urllib.request.urlopen(base + "/login", timeout=120) as response:
        response.read()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
