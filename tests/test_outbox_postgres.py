"""The outbox on PostgreSQL: several workers share the due rows (FOR UPDATE SKIP LOCKED), never the same row."""
from sqlalchemy import select

import outbox
from extensions import db
from models import Outbox


def test_two_workers_never_claim_the_same_row_on_postgresql(pg_app):
    with pg_app.app_context():
        now = outbox.real_now()
        for n in range(4):
            db.session.add(Outbox(kind=Outbox.KIND_EMAIL, event_id=f"e{n}", event=outbox.EVENT_STATUS_CHANGED,
                                  target="ops@example.com", payload="{}", created_at=now, attempts=0,
                                  next_attempt_at=now, last_error=""))
        db.session.commit()
        # Another worker is in the middle of its claim: it holds two rows' locks.
        other = db.engine.connect()
        transaction = other.begin()
        held = other.execute(select(Outbox.id).order_by(Outbox.id).limit(2)
                             .with_for_update(skip_locked=True)).scalars().all()
        try:
            jobs = outbox.claim(batch=10)
        finally:
            transaction.rollback()
            other.close()
        assert len(held) == 2 and len(jobs) == 2
        assert not {job["id"] for job in jobs} & set(held)
