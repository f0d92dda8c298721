"""Published policy versions; the newest is current."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy import select

from storage.audit import AuditTrail
from storage.db import Database
from storage.models import PolicyVersionRow
from domain.records import PolicyVersion

if TYPE_CHECKING:
    from storage.pairings import PairingRepository


class DuplicateVersion(ValueError):
    pass


def _version(row: PolicyVersionRow) -> PolicyVersion:
    return PolicyVersion(row.id, row.label, row.sha256, row.source_name, row.text, row.published_at, row.published_by)


class PolicyRepository:
    def __init__(self, db: Database, audit: AuditTrail, pairings: "PairingRepository | None" = None) -> None:
        """`pairings`: carry the previous version's taught pairings over on every publish (storage/pairings.py)."""
        self._db = db
        self._audit = audit
        self._pairings = pairings

    async def publish(self, *, label: str, text: str, source_name: str, published_by: str) -> PolicyVersion:
        """Make a new current version, carrying the previous version's pairings over in the same transaction."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        async with self._db.sessions.begin() as session:
            taken = (await session.execute(select(PolicyVersionRow.id).where(PolicyVersionRow.label == label))).scalar()
            if taken is not None:
                raise DuplicateVersion(f"a policy version labelled '{label}' is already published")
            row = PolicyVersionRow(
                label=label, sha256=digest, source_name=source_name, text=text,
                published_at=datetime.now(timezone.utc), published_by=published_by,
            )
            session.add(row)
            await session.flush()
            await self._audit.append_in(
                session, published_by, "policy.published", f"policy:{label}", {"sha256": digest, "source": source_name}
            )
            version = _version(row)
            if self._pairings is not None:
                await self._pairings.carry_over_in(session, version, actor=published_by)
            return version

    async def current(self) -> PolicyVersion | None:
        async with self._db.sessions() as session:
            row = (await session.execute(select(PolicyVersionRow).order_by(PolicyVersionRow.id.desc()).limit(1))).scalar()
            return _version(row) if row else None

    async def get(self, version_id: int) -> PolicyVersion | None:
        async with self._db.sessions() as session:
            row = await session.get(PolicyVersionRow, version_id)
            return _version(row) if row else None

    async def current_id(self) -> int | None:
        async with self._db.sessions() as session:
            return (await session.execute(select(PolicyVersionRow.id).order_by(PolicyVersionRow.id.desc()).limit(1))).scalar()

    async def all(self) -> list[PolicyVersion]:
        async with self._db.sessions() as session:
            rows = (await session.execute(select(PolicyVersionRow).order_by(PolicyVersionRow.id))).scalars()
            return [_version(row) for row in rows]
