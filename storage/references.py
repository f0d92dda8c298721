"""Human-friendly references such as INC-2026-0007 and REQ-2026-0012: one sequence per prefix and year."""

from __future__ import annotations

from datetime import datetime
from typing import Awaitable, Callable, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

T = TypeVar("T")


async def next_reference(session, column, prefix: str, now: datetime) -> str:
    start = f"{prefix}-{now.year}-"
    taken = (await session.execute(select(func.max(column)).where(column.like(f"{start}%")))).scalar()
    number = int(taken.rsplit("-", 1)[1]) + 1 if taken else 1
    return f"{start}{number:04d}"


async def with_fresh_reference(create: Callable[[], Awaitable[T]], attempts: int = 5) -> T:
    """Run `create` again when another writer took the same number at the same moment (unique constraint)."""
    for _attempt in range(attempts - 1):
        try:
            return await create()
        except IntegrityError:
            continue
    return await create()
