"""Retention (policy 9.2, 10.2) and subject access (UK GDPR) over everything we keep about people."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, or_, select

from storage.audit import AuditTrail
from storage.db import Database
from storage.models import AuditRow, ConversationRow, QuestionRow, UserRow


def _plain(row) -> dict:
    return {column.name: getattr(row, column.name) for column in row.__table__.columns}


class Records:
    def __init__(self, db: Database, audit: AuditTrail) -> None:
        self._db = db
        self._audit = audit

    async def purge(self, *, questions_days: int, actor: str, dry_run: bool = False) -> dict[str, int]:
        """Delete questions older than their retention period, and record that it was done (not what)."""
        cutoff = datetime.now(timezone.utc) - timedelta(days=questions_days)
        async with self._db.sessions.begin() as session:
            due = (await session.execute(select(func.count()).select_from(QuestionRow).where(QuestionRow.asked_at < cutoff))).scalar()
            if not dry_run and due:
                await session.execute(delete(QuestionRow).where(QuestionRow.asked_at < cutoff))
                await self._audit.append_in(
                    session, actor, "retention.purged", "questions",
                    {"deleted": due, "older_than_days": questions_days, "cutoff": cutoff.isoformat()},
                )
        return {"questions": due}

    async def export_user(self, user_id: str) -> dict:
        """Every record about one person, for a subject access request."""
        async with self._db.sessions() as session:
            user = await session.get(UserRow, user_id)
            conversations = (await session.execute(select(ConversationRow).where(ConversationRow.user_id == user_id))).scalars()
            questions = (await session.execute(select(QuestionRow).where(QuestionRow.user_id == user_id).order_by(QuestionRow.id))).scalars()
            audit = (
                await session.execute(
                    select(AuditRow).where(or_(AuditRow.actor == user_id, AuditRow.subject == f"user:{user_id}")).order_by(AuditRow.id)
                )
            ).scalars()
            return {
                "user_id": user_id,
                "exported_at": datetime.now(timezone.utc).isoformat(),
                "profile": _plain(user) if user else None,
                "conversations": [_plain(c) for c in conversations],
                "questions": [_plain(q) for q in questions],
                "audit_entries": [_plain(a) for a in audit],
            }
