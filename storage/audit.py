"""The append-only audit trail in the database: append, read, verify, and clear free text on purge.

How entries are chained, and why, is in storage/audit_chain.py."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone

from sqlalchemy import select, update

from storage.audit_chain import (
    COMMITTED, LEGACY, LEGACY_FREE_TEXT, SCRUB_ACTION, Anchor, ChainProblem, Head, chain_hash, check_chain,
    entry_hash, private_digest, scrub_digest,
)
from storage.db import Database
from storage.models import AuditHeadRow, AuditRow
from domain.records import AuditEntry


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(row.id, _utc(row.at), row.actor, row.action, row.subject, row.detail, row.prev_hash, row.hash,
                      scheme=row.scheme, keyed=row.keyed, private=row.private, private_digest=row.private_digest,
                      scrubbed_at=_utc(row.scrubbed_at))


def _json(value: dict | None) -> dict:
    """As the database will give it back: JSON types only."""
    return json.loads(json.dumps(value or {}, default=str))


class AuditTrail:
    def __init__(self, db: Database, *, key: bytes | None = None) -> None:
        self._db = db
        self._key = key  # AUDIT_KEY: when set, each entry's hash is an HMAC under it

    async def append_in(self, session, actor: str, action: str, subject: str, detail: dict | None = None,
                        *, private: dict | None = None) -> None:
        """Append inside the caller's transaction, so the record and the change commit together.

        `private` is free text that goes when the subject's record is purged (notes, outcomes, reasons):
        kept beside the entry, with the chain covering only a salted digest of it."""
        # Taking the head row's lock first queues appenders (SQLite's write lock, a row lock in PostgreSQL),
        # so each one reads the true newest hash and the chain never forks.
        prev = (await session.execute(
            update(AuditHeadRow).where(AuditHeadRow.id == 1).values(appended=AuditHeadRow.appended + 1)
            .returning(AuditHeadRow.hash)
        )).scalar_one()
        at = datetime.now(timezone.utc).replace(microsecond=0)
        detail = _json(detail)
        words = {name: text for name, text in _json(private).items() if text not in (None, "")}
        kept = {"salt": secrets.token_hex(16), "text": words} if words else None
        digest = private_digest(kept) if kept else None
        new_hash = chain_hash(prev, at, actor, action, subject, detail, digest, key=self._key)
        session.add(AuditRow(at=at, actor=actor, action=action, subject=subject, detail=detail, prev_hash=prev,
                             hash=new_hash, scheme=COMMITTED, keyed=self._key is not None, private=kept,
                             private_digest=digest))
        await session.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(hash=new_hash))

    async def append(self, actor: str, action: str, subject: str, detail: dict | None = None,
                     *, private: dict | None = None) -> None:
        async with self._db.sessions.begin() as session:
            await self.append_in(session, actor, action, subject, detail, private=private)

    async def entries(self, subject: str | None = None) -> list[AuditEntry]:
        async with self._db.sessions() as session:
            query = select(AuditRow).order_by(AuditRow.id)
            if subject is not None:
                query = query.where(AuditRow.subject == subject)
            return [_entry(row) for row in (await session.execute(query)).scalars()]

    async def by_actor(self, actor: str) -> list[AuditEntry]:
        async with self._db.sessions() as session:
            rows = await session.execute(select(AuditRow).where(AuditRow.actor == actor).order_by(AuditRow.id))
            return [_entry(row) for row in rows.scalars()]

    async def head(self) -> Head:
        async with self._db.sessions() as session:
            row = await session.get(AuditHeadRow, 1)
            return Head(row.appended, row.hash)

    async def verify(self, anchor: Anchor | None = None) -> ChainProblem | None:
        """The first thing that does not check out (an entry, its link, the head, the anchor); None if all do."""
        async with self._db.sessions() as session:
            head_row = await session.get(AuditHeadRow, 1)
            head = Head(head_row.appended, head_row.hash)
            entries = [_entry(row) for row in (await session.execute(select(AuditRow).order_by(AuditRow.id))).scalars()]
        return check_chain(entries, head, key=self._key, anchor=anchor)

    async def key_problem(self) -> str | None:
        """Why appending now would break the chain: the trail is signed with AUDIT_KEY and this process
        has no key, or another one. None when appending is safe."""
        async with self._db.sessions() as session:
            row = (await session.execute(select(AuditRow).order_by(AuditRow.id.desc()).limit(1))).scalar()
        if row is None or not row.keyed:
            return None
        if self._key is None:
            return "the audit trail is signed with AUDIT_KEY, but AUDIT_KEY is not set"
        if row.hash != entry_hash(_entry(row), self._key):
            return "AUDIT_KEY is not the key the audit trail is signed with"
        return None

    async def scrub_in(self, session, subjects: list[str], *, actor: str) -> int:
        """Clear the free text of every entry about these purged records, inside the purge's transaction, and
        append a receipt for them so the chain still verifies. Returns how many entries were cleared."""
        now = datetime.now(timezone.utc)
        receipts: dict[str, str] = {}
        for start in range(0, len(subjects), 500):
            rows = (await session.execute(
                select(AuditRow).where(AuditRow.subject.in_(subjects[start:start + 500]), AuditRow.scrubbed_at.is_(None))
                .order_by(AuditRow.id)
            )).scalars()
            for row in rows:
                if row.scheme == LEGACY:
                    kept = {k: v for k, v in row.detail.items() if k not in LEGACY_FREE_TEXT}
                    # An entry that no longer checks out is left as it is, for `audit verify` to point at.
                    if kept == row.detail or row.hash != entry_hash(_entry(row), None):
                        continue
                    row.detail = kept
                elif row.private is None:
                    continue
                else:
                    row.private = None
                row.scrubbed_at = now
                receipts[str(row.id)] = scrub_digest(_entry(row))
        if receipts:
            await session.flush()
            await self.append_in(session, actor, SCRUB_ACTION, "audit", {"entries": receipts})
        return len(receipts)
