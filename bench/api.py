"""Time create + submit through the JSON API (two requests: POST /applications, POST …/submit) against the same
application submitted through the form (one POST of the whole form with 提交), in one run on SQLite; prints p50/p95
in ms of each and the API's ratio to the form.

    .venv/bin/python bench/api.py [--runs 200]
"""
import argparse
import hashlib
import re
import time

from common import login, percentiles, scratch_app

KEY = "yy_bench-key-0123456789abcdefghijklmnopqrstuv"
DRAFT = {
    "consignee_code": "1201960456", "contact_name": "张三", "contact_mobile": "13812345678",
    "declaration_port": "0400", "entry_port": "8000", "transport_mode": "5", "start_date": "2026-11-27",
    "start_hour": "19", "reason_category": "perishable", "reason_text": "冰鲜水产品", "direction": "I",
    "goods": [{"name": "冻罗非鱼", "hs_code": "0303230000"}, {"name": "蜜枣", "hs_code": "2006001000"}],
}


def add_key(app, username):
    import clock
    from extensions import db
    from models import ApiKey, User

    with app.app_context():
        user = User.by_username(username)
        db.session.add(ApiKey(user_id=user.id, name="bench", prefix=KEY[:11],
                              key_hash=hashlib.sha256(KEY.encode()).hexdigest(), created_at=clock.now()))
        db.session.commit()


def time_api(client, runs):
    headers = {"Authorization": f"Bearer {KEY}"}
    samples = []
    for i in range(runs + 10):
        started = time.perf_counter()
        created = client.post("/api/v1/applications", json=DRAFT, headers={**headers, "Idempotency-Key": f"c{i}"})
        submitted = client.post(f"/api/v1/applications/{created.json['id']}/submit", json={},
                                headers={**headers, "Idempotency-Key": f"s{i}"})
        samples.append((time.perf_counter() - started) * 1000)
        assert submitted.status_code == 200, submitted.get_data(as_text=True)[:2000]
    return samples[10:]  # the first requests warm caches


def time_form(client, runs):
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/apply/new").get_data(as_text=True)).group(1)
    form = {"csrf_token": token, "version": "", "action": "submit",
            **{k: v for k, v in DRAFT.items() if k != "goods"}}
    for i, row in enumerate(DRAFT["goods"]):
        form[f"goods-{i}-name"], form[f"goods-{i}-hs_code"] = row["name"], row["hs_code"]
    samples = []
    for _ in range(runs + 10):
        started = time.perf_counter()
        response = client.post("/apply/new", data=form)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return samples[10:]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    app = scratch_app()
    add_key(app, "demo-advanced")
    api = time_api(app.test_client(), args.runs)
    browser = app.test_client()
    login(browser, "demo-advanced")
    form = time_form(browser, args.runs)
    (api50, api95), (form50, form95) = percentiles(api), percentiles(form)
    print(f"create+submit, {args.runs} runs each (SQLite)")
    print(f"api  p50_ms={api50:.1f} p95_ms={api95:.1f}   (two requests, idempotency keys stored)")
    print(f"form p50_ms={form50:.1f} p95_ms={form95:.1f}   (one POST of the form with 提交)")
    print(f"ratio api/form p50={api50 / form50:.2f} p95={api95 / form95:.2f}")


if __name__ == "__main__":
    main()
