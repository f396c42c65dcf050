"""The one clock of the site: Asia/Shanghai wall time, frozen by FROZEN_NOW for classes and tests.

Every domain time is a naive datetime in Asia/Shanghai local time. China has kept one offset (UTC+8)
without daylight saving since 1991, so a naive local time is unambiguous and compares the same on
SQLite and PostgreSQL.
"""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

SHANGHAI = ZoneInfo("Asia/Shanghai")


def parse_frozen(value):
    """Parse a FROZEN_NOW value such as ``2026-11-23T10:00`` (local time) into a naive datetime."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.fromisoformat(str(value).strip()).replace(tzinfo=None)


def now():
    """Return the current Asia/Shanghai wall time, or the frozen time when FROZEN_NOW is set."""
    frozen = current_app.config.get("FROZEN_NOW") if has_app_context() else None
    if frozen:
        return parse_frozen(frozen)
    return datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)


def today():
    """Return the current Asia/Shanghai date."""
    return now().date()
