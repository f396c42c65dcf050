"""Shared pieces of the benchmarks: a seeded app on a scratch database and percentile printing."""
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from extensions import db  # noqa: E402

FROZEN_NOW = "2026-11-23T10:00"


def scratch_app(seed_demo=True):
    """The site on DATABASE_URL (PostgreSQL) or a scratch SQLite file, migrated and (optionally) seeded."""
    from flask_migrate import upgrade

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='yuyue-bench-')}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "FROZEN_NOW": FROZEN_NOW, "SECRET_KEY": "bench", "DEMO_MODE": True})
    with app.app_context():
        if os.environ.get("DATABASE_URL"):
            db.drop_all()
            db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
        upgrade()
        if seed_demo:
            import demo

            demo.seed()
            db.session.commit()
    return app


def login(client, username):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": "demo1234", "csrf_token": token})
    assert response.status_code == 303, "login failed"
    return token


def percentiles(samples_ms):
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95
