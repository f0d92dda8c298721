"""Optimistic concurrency: a change applies only if nobody changed the row since the version the actor saw."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update


async def update_if_unchanged(session, model, row_id: int, version: int, values: dict, now: datetime, *conditions) -> bool:
    """Apply `values` and bump the version, in the database, only if the row is still at `version`
    (and meets any further `conditions`). False when someone else got there first."""
    result = await session.execute(
        update(model)
        .where(model.id == row_id, model.version == version, *conditions)
        .values(**values, version=model.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
