"""A broker's system in one file (Python 3 standard library only): file an appointment through the 预约通关 API and
wait for customs to accept it (受理), learning of it from the signed webhook.

    1. In the browser, as the enterprise operator: API密钥 → 创建密钥 (copy the key), then 状态通知 → add
       http://<this machine>:8765/yuyue as 接收地址 with a signing secret of your own.
    2. python examples/broker.py --base http://127.0.0.1:5000 --key yy_... --secret <signing secret>
    3. As demo-customs in the browser: 预约审核 → the new application → 受理. The script prints the signed event.

Every refusal is printed as the site words it (Accept-Language picks zh or en).
"""
import argparse
import hashlib
import hmac
import json
import queue
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300


def verify(secret, header, body, now=None):
    """Check X-Yuyue-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">, at most 5 minutes old."""
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    if not parts.get("t", "").isdigit() or abs((now or time.time()) - int(parts["t"])) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


class Api:
    """The key's session: every call carries the key, the language, and (for writes) an idempotency key."""

    def __init__(self, base, key, language="zh"):
        self.base, self.key, self.language = base.rstrip("/") + "/api/v1", key, language

    def call(self, method, path, body=None, idempotency_key=None):
        headers = {"Authorization": f"Bearer {self.key}", "Accept-Language": self.language,
                   "Content-Type": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


def start_receiver(listen, secret, events):
    """An HTTP server that puts each correctly signed event on ``events`` and answers 204 (acknowledged)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if not verify(secret, self.headers.get("X-Yuyue-Signature"), body):
                self.send_response(400)
                self.end_headers()
                return
            events.put(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    host, port = listen.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def sample_draft(start_date):
    return {
        "consignee_code": "1201960456", "contact_name": "张三", "contact_mobile": "13812345678",
        "declaration_port": "8000", "entry_port": "8000", "transport_mode": "5",
        "start_date": start_date, "start_hour": "18", "reason_category": "perishable",
        "reason_text": "进口冰鲜三文鱼", "direction": "I", "goods": [{"name": "蜜枣", "hs_code": "2006001000"}],
    }


def main(argv=None, out=print):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--key", required=True, help="an API key (API密钥 page)")
    parser.add_argument("--secret", required=True, help="the webhook's signing secret (状态通知 page)")
    parser.add_argument("--listen", default="127.0.0.1:8765", help="where the webhook receiver listens")
    parser.add_argument("--start-date", default=(date.today() + timedelta(days=2)).isoformat())
    parser.add_argument("--language", default="zh", choices=("zh", "en"))
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for 受理")
    args = parser.parse_args(argv)

    events = queue.Queue()
    server = start_receiver(args.listen, args.secret, events)
    api = Api(args.base, args.key, args.language)
    order = f"broker-{int(time.time())}"
    try:
        status, draft = api.call("POST", "/applications", sample_draft(args.start_date), idempotency_key=order + "-create")
        if status != 201:
            out(f"draft refused ({status}):", *[f"[{e['code']}] {e['message']}" for e in draft["errors"]], sep="\n  ")
            return 1
        out(f"draft {draft['pre_entry_number']} saved (id {draft['id']}, version {draft['version']})")
        status, submitted = api.call("POST", f"/applications/{draft['id']}/submit", {}, idempotency_key=order + "-submit")
        if status != 200:
            out(f"submit refused ({status}):", *[f"[{e['code']}] {e['message']}" for e in submitted["errors"]], sep="\n  ")
            return 1
        out(f"submitted: {submitted['status_label']}; waiting for customs to 受理 …")
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            try:
                event = events.get(timeout=1)
            except queue.Empty:
                continue
            data = event["data"]
            out(f"signed event {event['id']}: {data['pre_entry_number']} {data['from_status']} → {data['status']}")
            if data["application_id"] == draft["id"] and data["status"] == "accepted":
                out("受理 received and its signature verified.")
                return 0
        out("no 受理 within the timeout")
        return 2
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
