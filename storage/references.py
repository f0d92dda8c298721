"""Human-friendly references such as INC-2026-0007 and REQ-2026-0012: one sequence per prefix and year."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import ReferenceCounterRow


async def next_reference(session, column, prefix: str, now: datetime) -> str:
    """Take the next number inside the caller's transaction.

    The counter row is upserted, which locks it until the transaction ends, so concurrent writers in any
    process queue for it instead of choosing the same number. The first use of a counter starts after
    the highest reference already stored (records made before counters existed)."""
    start = f"{prefix}-{now.year}-"
    taken = (await session.execute(select(func.max(column)).where(column.like(f"{start}%")))).scalar()
    first = int(taken.rsplit("-", 1)[1]) + 1 if taken else 1
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    table = ReferenceCounterRow.__table__
    insert = dialect.insert(table).values(key=start, value=first)
    statement = insert.on_conflict_do_update(
        index_elements=["key"],
        set_={"value": case((table.c.value + 1 > insert.excluded.value, table.c.value + 1), else_=insert.excluded.value)},
    ).returning(table.c.value)
    number = (await session.execute(statement)).scalar_one()
    return f"{start}{number:04d}"
