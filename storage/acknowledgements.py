"""Who acknowledged which policy version, once per person per version."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import and_, func, select

from storage.audit import AuditTrail
from storage.db import Database
from storage.conversations import in_world
from storage.models import AcknowledgementRow, ConversationRow, UserRow
from storage.times import as_utc
from domain.records import Acknowledgement, KnownUser, PolicyVersion


def _ack(row: AcknowledgementRow) -> Acknowledgement:
    at = as_utc(row.acknowledged_at)
    return Acknowledgement(row.user_id, row.version_id, row.version_label, row.sha256, at)


class AcknowledgementRepository:
    def __init__(self, db: Database, audit: AuditTrail, *, local_chat: bool = False) -> None:
        self._db = db
        self._audit = audit
        self._local_chat = local_chat

    async def record(self, *, user_id: str, user_name: str | None, version: PolicyVersion, conversation_id: str | None) -> bool:
        """True if this is the person's first acknowledgement of this version; a repeat changes nothing."""
        now = datetime.now(timezone.utc)
        async with self._db.sessions.begin() as session:
            result = await session.execute(self._db.insert_ignore(
                AcknowledgementRow.__table__,
                dict(user_id=user_id, user_name=user_name, version_id=version.id, version_label=version.label,
                     sha256=version.sha256, conversation_id=conversation_id, acknowledged_at=now),
                ["user_id", "version_id"],
            ))
            first = result.rowcount == 1
            if first:
                await self._audit.append_in(session, user_id, "policy.acknowledged", f"policy:{version.label}",
                                            {"sha256": version.sha256})
            return first

    async def latest_for(self, user_id: str) -> Acknowledgement | None:
        async with self._db.sessions() as session:
            row = (await session.execute(
                select(AcknowledgementRow).where(AcknowledgementRow.user_id == user_id)
                .order_by(AcknowledgementRow.version_id.desc()).limit(1)
            )).scalar()
            return _ack(row) if row else None

    async def has_acknowledged(self, user_id: str, version_id: int) -> bool:
        async with self._db.sessions() as session:
            return (await session.execute(select(AcknowledgementRow.id).where(
                AcknowledgementRow.user_id == user_id, AcknowledgementRow.version_id == version_id))).scalar() is not None

    def _known_users(self):
        """People the bot can reach 1:1: everyone with a personal conversation reference (in Teams; in the terminal
        chat, its own people)."""
        return select(ConversationRow.user_id).where(
            ConversationRow.kind == "personal", ConversationRow.user_id.is_not(None), in_world(self._local_chat)
        ).distinct()

    async def outstanding(self, version_id: int) -> list[str]:
        async with self._db.sessions() as session:
            acknowledged = select(AcknowledgementRow.user_id).where(AcknowledgementRow.version_id == version_id)
            rows = await session.execute(
                self._known_users().where(ConversationRow.user_id.not_in(acknowledged)).order_by(ConversationRow.user_id)
            )
            return [user for (user,) in rows]

    async def figures(self, version_id: int | None) -> tuple[int, int]:
        """(acknowledged, known) for a version, counting only people the bot knows."""
        if version_id is None:
            return 0, 0
        async with self._db.sessions() as session:
            known = self._known_users().subquery()
            total = (await session.execute(select(func.count()).select_from(known))).scalar()
            done = (await session.execute(
                select(func.count(func.distinct(AcknowledgementRow.user_id)))
                .where(AcknowledgementRow.version_id == version_id, AcknowledgementRow.user_id.in_(select(known.c.user_id)))
            )).scalar()
            return done, total

    async def report(self, version_id: int | None) -> list[KnownUser]:
        """One row per known person: their latest acknowledgement and whether it covers the current version."""
        async with self._db.sessions() as session:
            latest = (
                select(AcknowledgementRow.user_id, func.max(AcknowledgementRow.version_id).label("version_id"))
                .group_by(AcknowledgementRow.user_id).subquery()
            )
            known = self._known_users().subquery()
            rows = await session.execute(
                select(known.c.user_id, UserRow.name, AcknowledgementRow.version_label, AcknowledgementRow.acknowledged_at,
                       AcknowledgementRow.version_id)
                .select_from(known)
                .join(UserRow, UserRow.id == known.c.user_id, isouter=True)
                .join(latest, latest.c.user_id == known.c.user_id, isouter=True)
                .join(AcknowledgementRow, and_(AcknowledgementRow.user_id == latest.c.user_id,
                                               AcknowledgementRow.version_id == latest.c.version_id), isouter=True)
                .order_by(known.c.user_id)
            )
            return [
                KnownUser(user, name, label, at, version_id is not None and acked == version_id)
                for user, name, label, at, acked in rows
            ]
