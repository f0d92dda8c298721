"""Append-only, hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from sqlalchemy import select, update

from storage.db import Database
from storage.models import AuditHeadRow, AuditRow
from storage.records import AuditEntry

GENESIS = "0" * 64


def entry_hash(prev_hash: str, at: datetime, actor: str, action: str, subject: str, detail: dict) -> str:
    canonical = json.dumps(
        [prev_hash, at.astimezone(timezone.utc).isoformat(), actor, action, subject, detail],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _entry(row: AuditRow) -> AuditEntry:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=timezone.utc)
    return AuditEntry(row.id, at, row.actor, row.action, row.subject, row.detail, row.prev_hash, row.hash)


class AuditTrail:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append_in(self, session, actor: str, action: str, subject: str, detail: dict | None = None) -> None:
        """Append inside the caller's transaction, so the record and the change commit together."""
        # Taking the head row's lock first queues appenders (SQLite's write lock, a row lock in PostgreSQL),
        # so each one reads the true last hash and the chain never forks.
        await session.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(appended=AuditHeadRow.appended + 1))
        last = (await session.execute(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1))).scalar()
        prev = last or GENESIS
        at = datetime.now(timezone.utc).replace(microsecond=0)
        detail = json.loads(json.dumps(detail or {}, default=str))
        session.add(
            AuditRow(
                at=at, actor=actor, action=action, subject=subject, detail=detail, prev_hash=prev,
                hash=entry_hash(prev, at, actor, action, subject, detail),
            )
        )

    async def append(self, actor: str, action: str, subject: str, detail: dict | None = None) -> None:
        async with self._db.sessions.begin() as session:
            await self.append_in(session, actor, action, subject, detail)

    async def entries(self, subject: str | None = None) -> list[AuditEntry]:
        async with self._db.sessions() as session:
            query = select(AuditRow).order_by(AuditRow.id)
            if subject is not None:
                query = query.where(AuditRow.subject == subject)
            return [_entry(row) for row in (await session.execute(query)).scalars()]

    async def verify(self) -> AuditEntry | None:
        """The first entry whose chain link or content does not check out; None if all do."""
        prev = GENESIS
        for entry in await self.entries():
            expected = entry_hash(entry.prev_hash, entry.at, entry.actor, entry.action, entry.subject, entry.detail)
            if entry.prev_hash != prev or entry.hash != expected:
                return entry
            prev = entry.hash
        return None
