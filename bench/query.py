"""Fill a database with N applications and time the typical 预约通关查询 requests through the app.

    .venv/bin/python bench/query.py [--rows 1000000] [--runs 30] [--queue]

With --queue, also the 预约审核 queue of demo-customs (four ports) in the same run; the last line is then the ratio
of the slowest queue request's p95 to the slowest query's p95 (issue 11: at most 2 at 1,000,000 rows).

SQLite in a scratch file by default; PostgreSQL when DATABASE_URL is given (its tables are rebuilt).
The last line is p50/p95 of the slowest typical query.
"""
import argparse
import random
import time
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from common import login, percentiles, scratch_app

import rules  # noqa: E402
from extensions import db  # noqa: E402
from models import Application, Enterprise, Port, User  # noqa: E402

# Applications of the last two weeks are anywhere in their lifecycle; older ones have mostly ended
# cleared, and only a few are still approved with no feedback (通关完成未反馈, R17).
RECENT_STATUSES = [
    (rules.DRAFT, 14), (rules.SUBMITTED, 12), (rules.ACCEPTED, 10), (rules.APPROVED, 20),
    (rules.CLEARED, 30), (rules.CANCELLED, 8), (rules.RETURNED, 6),
]
OLD_STATUSES = [
    (rules.CLEARED, 78), (rules.CANCELLED, 8), (rules.RETURNED, 6), (rules.DRAFT, 7), (rules.APPROVED, 1),
]
NOW = datetime(2026, 11, 23, 10, 0)
FIRST_DAY = datetime(2024, 11, 24)
DAYS = 730
ENTERPRISES = 400


def fill(app, rows, seed=7):
    """Insert extra enterprises and ``rows`` applications spread over two years, ports and statuses."""
    rng = random.Random(seed)
    with app.app_context():
        ports = [p for (p,) in db.session.execute(select(Port.code))]
        base = db.session.execute(select(Enterprise.id).order_by(Enterprise.id)).scalars().all()
        firms = list(base)
        for i in range(ENTERPRISES):
            firm = Enterprise(customs_code=f"B{i:09d}", uscc=f"BENCH{i:013d}", inspection_code=f"{i:010d}",
                              name=f"基准测试企业{i:03d}", credit_grade=rules.GENERAL_CREDIT, qualified=True)
            db.session.add(firm)
            db.session.flush()
            firms.append(firm.id)
        db.session.commit()
        # A few big enterprises carry much of the traffic, as at a real port.
        weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(firms))]
        recent_statuses, recent_weights = zip(*RECENT_STATUSES)
        old_statuses, old_weights = zip(*OLD_STATUSES)
        table = Application.__table__
        batch, started = [], time.perf_counter()
        for n in range(rows):
            created = FIRST_DAY + timedelta(seconds=rng.randrange(DAYS * 86400 - 14 * 3600))
            start = (created + timedelta(days=rng.randint(1, 10))).replace(hour=rng.choice([0, 6, 7, 17, 18, 19, 20, 21]), minute=0, second=0)
            declarant, consignee = rng.choices(firms, weights, k=2)
            if created > NOW - timedelta(days=14):
                status = rng.choices(recent_statuses, recent_weights)[0]
            else:
                status = rng.choices(old_statuses, old_weights)[0]
            accepted = status in (rules.ACCEPTED, rules.APPROVED, rules.CLEARED) or (
                status == rules.CANCELLED and rng.random() < 0.5)
            approved = status in (rules.APPROVED, rules.CLEARED) or (status == rules.CANCELLED and accepted
                                                                      and rng.random() < 0.5)
            # Statements: most cancellations after approval, a few overdue appointments; read after a few days.
            statement = (status == rules.CANCELLED and approved and rng.random() < 0.9) or (
                status == rules.APPROVED and start < NOW - timedelta(days=5) and rng.random() < 0.1)
            statement_at = start + timedelta(days=1) if statement else None
            batch.append({
                "pre_entry_number": rules.pre_entry_number(created.year, 90_000_000_000 + n),
                "declarant_id": declarant, "consignee_id": consignee, "consignee_code": "",
                "contact_name": "张三", "contact_mobile": "13812345678",
                "declaration_port": rng.choice(ports), "entry_port": rng.choice(ports), "transport_mode": "5",
                "start": start, "end": start + rules.WINDOW, "reason_category": "perishable", "reason_text": "",
                "direction": rng.choice("IE"), "status": status, "created_at": created, "updated_at": created,
                "submitted_at": None if status == rules.DRAFT else created, "return_reason": "", "statement_text": "",
                "version": 1, "paper": rng.random() < 0.02,
                "accepted_at": created + timedelta(hours=2) if accepted else None,
                "approved_at": created + timedelta(hours=4) if approved else None,
                "cancelled_at": created + timedelta(hours=6) if status == rules.CANCELLED else None,
                "statement_at": statement_at,
                "statement_read_at": statement_at + timedelta(days=2)
                if statement and statement_at + timedelta(days=2) < NOW else None,
            })
            if len(batch) == 20_000:
                db.session.execute(insert(table), batch)
                db.session.commit()
                batch = []
        if batch:
            db.session.execute(insert(table), batch)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does soon after a bulk load: statistics and the visibility map (index-only scans).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(db.text("VACUUM ANALYZE"))
        else:
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
        print(f"inserted {rows} applications in {time.perf_counter() - started:.0f} s")
        # The busiest enterprise is the worst case; log in as an operator of it.
        busiest = firms[0]
        user = db.session.execute(select(User).where(User.enterprise_id == busiest)).scalars().first()
        firm = db.session.get(Enterprise, busiest)
        return user.username, firm.customs_code


def timed(client, urls, runs):
    """Print p50/p95 in ms of each URL; return the name and (p50, p95) of the slowest by p95."""
    results = {}
    for name, url in urls.items():
        for _ in range(3):
            assert client.get(url).status_code == 200, url
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
        results[name] = percentiles(samples)
        print(f"{name:44s} p50={results[name][0]:7.1f} ms  p95={results[name][1]:7.1f} ms", flush=True)
    slowest = max(results, key=lambda name: results[name][1])
    return slowest, results[slowest]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--queue", action="store_true",
                        help="also time demo-customs' 预约审核 queue (four ports) and print its ratio to the query")
    args = parser.parse_args()
    app = scratch_app()
    username, own_code = fill(app, args.rows)
    client = app.test_client()
    login(client, username)
    recent = "applied_from=2026-11-08&applied_to=2026-11-23"
    slowest, (p50, p95) = timed(client, {
        "query: A, 15 days applied": f"/query?category=A&{recent}",
        "query: A, 15 days applied, status draft": f"/query?category=A&{recent}&status=draft",
        "query: A, 15 days appointment": "/query?category=A&appointment_from=2026-06-01&appointment_to=2026-06-16",
        "query: B, 15 days applied": f"/query?category=B&consignee_code={own_code}&{recent}",
        "query: A, all history, page 1": "/query?category=A",
        "query: A, all history, page 50": "/query?category=A&page=50",
        "query: A, status cleared_no_feedback": "/query?category=A&status=cleared_no_feedback",
        "query: A, one pre-entry number":
            f"/query?category=A&pre_entry_number={rules.pre_entry_number(2025, 90_000_000_123)}",
    }, args.runs)
    engine = "postgresql" if "postgres" in app.config["SQLALCHEMY_DATABASE_URI"] else "sqlite"
    print(f"{args.rows} rows on {engine}; slowest typical query: {slowest}")
    print(f"p50_ms={p50:.1f} p95_ms={p95:.1f}")
    if args.queue:
        officer = app.test_client()
        login(officer, "demo-customs")
        slowest, (_, queue_p95) = timed(officer, {
            "queue: needs action now (opening view)": "/review",
            "queue: all statuses, port 8000": "/review?status=&port=8000",
            "queue: all statuses, page 20": "/review?status=&page=20",
            "queue: submitted, by appointment": "/review?status=submitted&sort=start",
            "queue: cleared, by appointment": "/review?status=cleared&sort=start",
            "queue: overdue feedback": "/review?status=&overdue=1",
            "queue: statements waiting": "/review?status=&statement=1",
            "queue: paper applications": "/review?status=&channel=paper",
            "queue: 15 days appointment, page 20":
                "/review?status=&appointment_from=2026-06-01&appointment_to=2026-06-16&page=20",
        }, args.runs)
        print(f"slowest queue request: {slowest}")
        print(f"query_p95_ms={p95:.1f} queue_p95_ms={queue_p95:.1f} ratio={queue_p95 / p95:.2f}")


if __name__ == "__main__":
    main()
