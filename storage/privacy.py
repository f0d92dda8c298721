"""Retention (policy 9.2, 10.2) over everything we keep about people. Subject access is in storage/subject_access.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, delete, func, select

from storage.audit import AuditTrail
from storage.db import Database
from storage.models import AcknowledgementRow, ApprovalRequestRow, IncidentRow, OutboxRow, QuestionRow


@dataclass(frozen=True)
class RetentionRule:
    kind: str  # what the CLI and the audit entry call it
    days: int


def _due(kind: str, cutoff: datetime):
    """Which rows of one kind are past retention, and how the audit trail names each one as a subject
    (prefix and column; None when it doesn't).
    Open cases are kept whatever their age."""
    if kind == "questions":  # a question still waiting for the governance team is an open case
        waiting = QuestionRow.escalation_status.is_not(None) & (QuestionRow.escalation_status == "waiting")
        return QuestionRow, and_(QuestionRow.asked_at < cutoff, ~waiting), ("question:", QuestionRow.id)
    if kind == "incidents":
        return (IncidentRow, and_(IncidentRow.status == "resolved", IncidentRow.updated_at < cutoff),
                ("incident:", IncidentRow.reference))
    if kind == "tool_requests":
        return (ApprovalRequestRow, and_(ApprovalRequestRow.status != "pending", ApprovalRequestRow.updated_at < cutoff),
                ("approval:", ApprovalRequestRow.reference))
    if kind == "acknowledgements":
        return AcknowledgementRow, AcknowledgementRow.acknowledged_at < cutoff, None
    if kind == "sent_messages":
        return OutboxRow, and_(OutboxRow.status.in_(("sent", "failed")), OutboxRow.created_at < cutoff), None
    raise ValueError(kind)


class Records:
    def __init__(self, db: Database, audit: AuditTrail) -> None:
        self._db = db
        self._audit = audit

    async def purge(self, rules: list[RetentionRule], *, actor: str, dry_run: bool = False) -> dict[str, int]:
        """Delete what is past its retention period, clear the free text the audit trail holds about it, and record
        that it was done (how many, not what). The audit keeps who did what to which record, and when."""
        counts: dict[str, int] = {"audit_text_cleared": 0}
        now = datetime.now(timezone.utc)
        async with self._db.sessions.begin() as session:
            for rule in rules:
                cutoff = now - timedelta(days=rule.days)
                table, condition, named = _due(rule.kind, cutoff)
                due = (await session.execute(select(func.count()).select_from(table).where(condition))).scalar()
                counts[rule.kind] = due
                if dry_run or not due:
                    continue
                subjects = []
                if named is not None:
                    prefix, column = named
                    subjects = [f"{prefix}{value}" for (value,) in await session.execute(select(column).where(condition))]
                await session.execute(delete(table).where(condition))
                counts["audit_text_cleared"] += await self._audit.scrub_in(session, subjects, actor=actor)
                await self._audit.append_in(
                    session, actor, "retention.purged", rule.kind,
                    {"deleted": due, "older_than_days": rule.days, "cutoff": cutoff.isoformat()},
                )
        if not dry_run:
            await self._db.reclaim()
        return counts
