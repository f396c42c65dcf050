"""Time a full 提交 through the app (every rule + the write) on SQLite; prints p50/p95 in ms.

    .venv/bin/python bench/submit.py [--runs 200]
"""
import argparse
import re
import time

from common import login, percentiles, scratch_app


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    app = scratch_app()
    client = app.test_client()
    login(client, "demo-advanced")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/apply/new").get_data(as_text=True)).group(1)
    form = {
        "csrf_token": token, "version": "", "consignee_code": "1201960456", "contact_name": "张三",
        "contact_mobile": "13812345678", "declaration_port": "0400", "entry_port": "8000", "transport_mode": "5",
        "start_date": "2026-11-27", "start_hour": "19", "reason_category": "perishable", "reason_text": "冰鲜水产品",
        "direction": "I", "goods-0-name": "冻罗非鱼", "goods-0-hs_code": "0303230000",
        "goods-1-name": "蜜枣", "goods-1-hs_code": "2006001000", "action": "submit",
    }
    samples = []
    for _ in range(args.runs + 10):
        started = time.perf_counter()
        response = client.post("/apply/new", data=form)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    samples = samples[10:]  # the first requests warm caches and the template compiler
    p50, p95 = percentiles(samples)
    print(f"submit through the app (SQLite), {args.runs} runs")
    print(f"p50_ms={p50:.1f} p95_ms={p95:.1f}")


if __name__ == "__main__":
    main()
