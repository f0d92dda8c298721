"""Times as storage hands them out: always aware, in UTC.

SQLite gives back naive datetimes for what went in as UTC; PostgreSQL gives aware ones.
Repositories pass every stored time through `as_utc`, so callers never see the difference.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """The stored time, marked as UTC when the database dropped its zone (SQLite)."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)
