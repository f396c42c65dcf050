"""Migrations and models on real PostgreSQL (a throwaway cluster, or DATABASE_URL)."""
from datetime import date

from sqlalchemy import func, inspect, select

import clock
import rules
from extensions import db
from models import Application, WorkingDay, application_search, has_unfed_back
from rules import CLEARED_NO_FEEDBACK, DRAFT


def test_migrations_apply_and_demo_seeds_on_postgresql(pg_app):
    with pg_app.app_context():
        assert db.engine.dialect.name == "postgresql"
        tables = set(inspect(db.engine).get_table_names())
        assert {"application", "enterprise", "working_day", "timetable", "status_change", "alembic_version"} <= tables
        indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("application")}
        assert "ix_application_declarant_created" in indexes
        assert db.session.execute(select(func.count(Application.id))).scalar() == 9


def test_queries_work_the_same_on_postgresql(pg_app):
    with pg_app.app_context():
        day = db.session.execute(
            select(WorkingDay).where(WorkingDay.port_code == "0400", WorkingDay.day == date(2026, 10, 10))
        ).scalar_one()
        assert day.closes.strftime("%H:%M") == "16:30"
        overdue = db.session.execute(select(Application).where(Application.pre_entry_number.like("YTG%"))).scalars()
        assert CLEARED_NO_FEEDBACK in {a.current_status for a in overdue}  # R17 computed, not stored
        from models import Enterprise

        overdue_firm = Enterprise.by_code("1301960654")
        assert has_unfed_back(overdue_firm.id)  # R6
        search = application_search(
            overdue_firm.id, "A", rules.CLEARED_NO_FEEDBACK, "", {}, clock.now()
        )
        assert db.session.execute(search.count).scalar() == 1


def test_optimistic_lock_version_increments_on_postgresql(pg_app):
    with pg_app.app_context():
        application = db.session.execute(select(Application).where(Application.status == DRAFT).limit(1)).scalar_one()
        version = application.version
        application.contact_name = "李四"
        db.session.commit()
        assert application.version == version + 1


def test_migrations_match_the_models_on_postgresql(pg_app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with pg_app.app_context(), db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
