"""Read-only figures about the service's state, for `policy-bot doctor` and the telemetry gauges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select

from storage.db import Database
from storage.models import OutboxRow


@dataclass(frozen=True)
class OutboxHealth:
    pending: int  # waiting or being sent
    failed: int
    oldest_pending_seconds: float  # age of the oldest message not yet delivered; 0 when none


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # SQLite returns naive UTC


async def outbox_health(db: Database) -> OutboxHealth:
    async with db.sessions() as session:
        counts = dict((await session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))).all())
        oldest = (await session.execute(
            select(func.min(OutboxRow.created_at)).where(OutboxRow.status.in_(("pending", "sending")))
        )).scalar()
    age = (datetime.now(timezone.utc) - _aware(oldest)).total_seconds() if oldest else 0.0
    return OutboxHealth(pending=counts.get("pending", 0) + counts.get("sending", 0), failed=counts.get("failed", 0),
                        oldest_pending_seconds=max(age, 0.0))
