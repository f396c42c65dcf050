"""The 预约审核 queue against the enterprise's 预约通关查询 in the same run (issue 11: queue p95 ≤ 2× query p95).

    .venv/bin/python bench/review_queue.py [--rows 1000000] [--runs 30]

Fills a scratch database as bench/query.py does (PostgreSQL when DATABASE_URL is given), then times typical queue
requests of demo-customs (four ports) and typical queries of the busiest enterprise. The last line is the ratio.
"""
import argparse
import time

from common import login, percentiles, scratch_app
from query import fill


def timed(client, urls, runs):
    """p50/p95 in ms of each URL, and of the slowest by p95."""
    results = {}
    for name, url in urls.items():
        for _ in range(3):
            assert client.get(url).status_code == 200, url
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
        results[name] = percentiles(samples)
        print(f"{name:44s} p50={results[name][0]:7.1f} ms  p95={results[name][1]:7.1f} ms")
    return max(results.values(), key=lambda r: r[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    app = scratch_app()
    username, _ = fill(app, args.rows)
    enterprise, officer = app.test_client(), app.test_client()
    login(enterprise, username)
    login(officer, "demo-customs")
    query = timed(enterprise, {
        "query: A, 15 days applied": "/query?category=A&applied_from=2026-11-08&applied_to=2026-11-23",
        "query: A, all history, page 1": "/query?category=A",
        "query: A, status cleared_no_feedback": "/query?category=A&status=cleared_no_feedback",
    }, args.runs)
    queue = timed(officer, {
        "queue: needs action now (opening view)": "/review",
        "queue: all statuses, port 8000": "/review?status=&port=8000",
        "queue: submitted, by appointment": "/review?status=submitted&sort=start",
        "queue: overdue feedback": "/review?status=&overdue=1",
        "queue: 15 days appointment, page 20": "/review?status=&appointment_from=2026-06-01&appointment_to=2026-06-16&page=20",
    }, args.runs)
    engine = "postgresql" if "postgres" in app.config["SQLALCHEMY_DATABASE_URI"] else "sqlite"
    print(f"{args.rows} rows on {engine}")
    print(f"query_p95_ms={query[1]:.1f} queue_p95_ms={queue[1]:.1f} ratio={queue[1] / query[1]:.2f}")


if __name__ == "__main__":
    main()
