"""The review queue's counts and pages at scale (issue 11): StatusCount kept by triggers, ReviewQueue's indexed
searches, each checked against a plain reading of every application, on SQLite and PostgreSQL."""
import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, insert, select, update

import rules
from extensions import db
from models import QUEUE_ACTION, Application, Enterprise, ReviewQueue, StatusCount, User
from rules import (ACCEPTED, APPROVED, CANCELLED, CLEARED, CLEARED_NO_FEEDBACK, DRAFT, RETURNED, SUBMITTED)

NOW = datetime(2026, 11, 23, 10, 0)
OFFICER_PORTS = ["0100", "0200", "0400", "8000"]
PORTS = OFFICER_PORTS + ["0500", "2200"]


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request):
    """The seeded demo on SQLite, then PostgreSQL, with 300 more applications in every status and state."""
    app = request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")
    with app.app_context():
        add_applications(300)
        yield app


def add_applications(rows, seed=11):
    """Applications inserted as a bulk load would (no ORM): every status, both channels, statements read and
    unread, cancellations recent and old, appointments overdue for feedback and not."""
    rng = random.Random(seed)
    firms = db.session.execute(select(Enterprise.id)).scalars().all()
    batch = []
    for n in range(rows):
        status = rng.choice([DRAFT, SUBMITTED, ACCEPTED, APPROVED, APPROVED, CLEARED, CANCELLED, RETURNED])
        created = NOW - timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 23))
        start = (created + timedelta(days=rng.randint(1, 10))).replace(hour=rng.choice([0, 7, 18, 20]), minute=0)
        statement = rng.random() < 0.3 and status in (APPROVED, CANCELLED)
        batch.append({
            "pre_entry_number": rules.pre_entry_number(created.year, 80_000_000_000 + n),
            "declarant_id": rng.choice(firms), "consignee_id": rng.choice(firms), "consignee_code": "",
            "contact_name": "张三", "contact_mobile": "13812345678", "declaration_port": rng.choice(PORTS),
            "entry_port": rng.choice(PORTS), "transport_mode": "5", "start": start, "end": start + rules.WINDOW,
            "reason_category": "perishable", "reason_text": "", "direction": "I", "status": status,
            "created_at": created, "updated_at": created, "version": 1,
            "submitted_at": None if status == DRAFT else created + timedelta(minutes=n),
            "cancelled_at": created + timedelta(hours=rng.choice([2, 30])) if status == CANCELLED else None,
            "approved_at": created if status in (APPROVED, CLEARED) or (status == CANCELLED and n % 2) else None,
            "statement_at": start + timedelta(days=1) if statement else None,
            "statement_read_at": start + timedelta(days=2) if statement and rng.random() < 0.5 else None,
            "paper": rng.random() < 0.2, "return_reason": "", "statement_text": "",
        })
    db.session.execute(insert(Application.__table__), batch)
    db.session.commit()


def stored_counts():
    kept = db.session.execute(select(StatusCount.declaration_port, StatusCount.entry_port, StatusCount.status,
                                     StatusCount.paper, StatusCount.n).where(StatusCount.n != 0)).all()
    counted = db.session.execute(
        select(func.coalesce(Application.declaration_port, ""), func.coalesce(Application.entry_port, ""),
               Application.status, Application.paper, func.count())
        .where(Application.status != DRAFT).group_by(Application.declaration_port, Application.entry_port,
                                                     Application.status, Application.paper)).all()
    return sorted(map(tuple, kept)), sorted(map(tuple, counted))


def test_status_counts_follow_inserts_moves_edits_and_deletes(site):
    kept, counted = stored_counts()
    assert kept == counted and sum(row[-1] for row in kept) > 200
    officer = db.session.execute(select(User).where(User.username == "demo-customs")).scalar_one()
    submitted = db.session.execute(select(Application).where(Application.status == SUBMITTED)).scalars().all()
    submitted[0].move(ACCEPTED, officer, at=NOW)
    submitted[1].move(RETURNED, officer, note="资料不全", at=NOW)
    db.session.delete(submitted[2])
    db.session.execute(update(Application).where(Application.id == submitted[3].id)
                       .values(entry_port="2200", paper=True))
    db.session.execute(delete(Application).where(Application.status == CLEARED, Application.declaration_port == "0500"))
    db.session.commit()
    kept, counted = stored_counts()
    assert kept == counted


def shown_status(application):
    return rules.current_status(application.status, application.start, NOW, application.statement_at is not None)


def needs_action(a):
    today = datetime.combine(NOW.date(), datetime.min.time())
    return (a.status in (SUBMITTED, ACCEPTED)
            or (a.statement_at is not None and a.statement_read_at is None)
            or (a.status == APPROVED and today <= a.start < today + timedelta(days=1, hours=12))
            or (a.status == CANCELLED and a.cancelled_at >= NOW - timedelta(days=1)))


# (the queue form's filters, its dates, what those filters other than status match)
SEARCHES = [
    ({"status": QUEUE_ACTION}, {}, lambda a: True),
    ({"status": ""}, {}, lambda a: True),
    ({"status": "", "port": "8000"}, {}, lambda a: "8000" in (a.declaration_port, a.entry_port)),
    ({"status": SUBMITTED, "sort": "start"}, {}, lambda a: True),
    ({"status": APPROVED}, {}, lambda a: True),
    ({"status": CLEARED_NO_FEEDBACK}, {}, lambda a: True),
    ({"status": "", "overdue": "1"}, {}, lambda a: shown_status(a) == CLEARED_NO_FEEDBACK),
    ({"status": "", "statement": "1"}, {}, lambda a: a.statement_at is not None and a.statement_read_at is None),
    ({"status": "", "channel": "paper"}, {}, lambda a: a.paper),
    ({"status": CANCELLED, "channel": "online", "sort": "start"}, {}, lambda a: not a.paper),
    ({"status": "", "sort": "start"}, {"appointment_from": date(2026, 11, 1), "appointment_to": date(2026, 11, 15)},
     lambda a: datetime(2026, 11, 1) <= a.start < datetime(2026, 11, 16)),
    ({"status": QUEUE_ACTION, "channel": "paper"}, {"appointment_from": date(2026, 11, 20)},
     lambda a: a.paper and a.start >= datetime(2026, 11, 20)),
    ({"status": "", "party": "渝丰"}, {}, lambda a: "渝丰" in a.declarant.name or bool(a.consignee and "渝丰" in a.consignee.name)),
]


def status_matches(status, application):
    if status == QUEUE_ACTION:
        return needs_action(application)
    return not status or shown_status(application) == status


@pytest.mark.parametrize("filters, dates, matches", SEARCHES, ids=[f"{s[0]}{s[1]}" for s in SEARCHES])
def test_queue_counts_total_and_page_equal_a_plain_reading_of_every_application(site, filters, dates, matches):
    everything = db.session.execute(select(Application).order_by(Application.id)).scalars().all()
    ports = [filters["port"]] if filters.get("port") else OFFICER_PORTS
    searched = [a for a in everything if rules.officer_may_see(a.status, (a.declaration_port, a.entry_port), ports)
                and matches(a)]
    found = [a for a in searched if status_matches(filters["status"], a)]
    # The counts by status are those of the search before a status is chosen.
    expected_counts = {}
    for a in searched:
        expected_counts[shown_status(a)] = expected_counts.get(shown_status(a), 0) + 1
    order = (lambda a: (a.start, a.id)) if filters.get("sort") == "start" else (lambda a: (a.submitted_at, a.id))
    queue = ReviewQueue(OFFICER_PORTS, filters, dates, NOW)
    assert queue.counts() == expected_counts
    assert queue.total() == len(found) and len(found) > 0
    expected_ids = [a.id for a in sorted(found, key=order)]
    assert [a.id for a in queue.page(1, 10)] == expected_ids[:10]
    assert [a.id for a in queue.page(2, 10)] == expected_ids[10:20]
