"""Team channels registered for a purpose (governance, security)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone

from storage.audit import AuditTrail
from storage.db import Database
from storage.models import ChannelRow
from domain.records import ConversationRef

PURPOSES = ("governance", "security")


class ChannelRepository:
    def __init__(self, db: Database, audit: AuditTrail) -> None:
        self._db = db
        self._audit = audit

    async def register(self, purpose: str, ref: ConversationRef, *, by: str) -> None:
        async with self._db.sessions.begin() as session:
            values = {"purpose": purpose, "conversation": asdict(ref), "registered_by": by,
                      "registered_at": datetime.now(timezone.utc)}
            await session.execute(self._db.upsert(ChannelRow.__table__, values, ["purpose"]))
            await self._audit.append_in(session, by, "channel.registered", f"channel:{purpose}", {"conversation": ref.id})

    async def get(self, purpose: str) -> ConversationRef | None:
        async with self._db.sessions() as session:
            row = await session.get(ChannelRow, purpose)
            return ConversationRef(**row.conversation) if row else None
