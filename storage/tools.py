"""The approved-tools register."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from domain.tools import tool_key
from storage.audit import AuditTrail
from storage.db import Database
from storage.models import ToolRow
from domain.records import Tool


def _tool(row: ToolRow) -> Tool:
    return Tool(
        name=row.name, category=row.category, status=row.status, aliases=tuple(row.aliases or ()),
        conditions=row.conditions, approved_by=row.approved_by, approved_on=row.approved_on, review_due=row.review_due,
    )


class ToolRepository:
    def __init__(self, db: Database, audit: AuditTrail) -> None:
        self._db = db
        self._audit = audit

    async def upsert(self, tools: list[Tool], *, actor: str) -> tuple[int, int]:
        """Add or replace register entries by name; returns (added, updated)."""
        async with self._db.sessions.begin() as session:
            return await self.upsert_in(session, tools, actor=actor)

    async def upsert_in(
        self, session, tools: list[Tool], *, actor: str, detail: dict | None = None, keep_aliases: bool = False,
    ) -> tuple[int, int]:
        """The same inside the caller's transaction, so a decision and the register change commit together."""
        added = updated = 0
        now = datetime.now(timezone.utc)
        for tool in tools:
            key = tool_key(tool.name)
            row = (await session.execute(select(ToolRow).where(ToolRow.key == key))).scalar_one_or_none()
            values = dict(
                name=tool.name, aliases=list(tool.aliases), category=tool.category, status=tool.status,
                conditions=tool.conditions, approved_by=tool.approved_by, approved_on=tool.approved_on,
                review_due=tool.review_due, updated_at=now,
            )
            if row is None:
                session.add(ToolRow(key=key, **values))
                added += 1
            else:
                if keep_aliases:
                    values["aliases"] = sorted({*(row.aliases or []), *tool.aliases})
                for name, value in values.items():
                    setattr(row, name, value)
                updated += 1
            await self._audit.append_in(
                session, actor, "register.updated", f"tool:{key}",
                {"status": tool.status, "conditions": tool.conditions, "category": tool.category,
                 "review_due": tool.review_due, **(detail or {})},
            )
        return added, updated

    async def all(self) -> list[Tool]:
        async with self._db.sessions() as session:
            rows = (await session.execute(select(ToolRow).order_by(ToolRow.name))).scalars()
            return [_tool(row) for row in rows]

    async def count(self) -> int:
        return len(await self.all())
