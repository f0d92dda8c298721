"""Questions asked of the bot, as kept under policy 9.2 (redacted, with what was answered)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import AsyncIterator

from sqlalchemy import insert, select, update

from storage.audit import AuditTrail
from storage.changes import Change
from storage.db import Database
from storage.models import QuestionRow
from storage.outbox import Outbox
from storage.references import next_reference
from storage.times import as_utc
from storage.versioned import update_if_unchanged
from domain.records import QuestionRecord

FEEDBACK_VALUES = ("helpful", "not_helpful")


def _record(row: QuestionRow) -> QuestionRecord:
    return QuestionRecord(
        id=row.id, user_id=row.user_id, asked_at=row.asked_at, text=row.text, redacted=row.redacted,
        answered=row.answered, passages=row.passages, feedback=row.feedback, escalated_at=as_utc(row.escalated_at),
        policy_version_id=row.policy_version_id, reference=row.reference, asker_name=row.asker_name,
        anonymous=bool(row.anonymous), escalation_reason=row.escalation_reason, escalation_comment=row.escalation_comment,
        escalation_status=row.escalation_status, response=row.response, responder_name=row.responder_name,
        responded_at=as_utc(row.responded_at), version=row.version or 1,
    )


class _PassedOnMeanwhile(Exception):
    """Another click passed the question on between reading and writing it."""


class StaleEscalation(Exception):
    """Someone else responded first (or the card was out of date); the caller shows the current state."""


class NotTheAsker(Exception):
    """No such question, or someone else asked it: only the asker may pass a question on."""


class AlreadyPassedOn(Exception):
    """The question was passed on already; `question` is it as stored."""

    def __init__(self, question: QuestionRecord) -> None:
        super().__init__()
        self.question = question


class QuestionRepository:
    """Questions and their escalations. Escalating and responding are units of work (storage/changes.py): the
    dialog queues the notifications on the yielded `Change` (the reference exists only inside the transaction),
    and they commit with the record."""

    def __init__(self, db: Database, audit: AuditTrail, outbox: Outbox | None = None) -> None:
        self._db = db
        self._audit = audit
        self._outbox = outbox  # needed only to escalate and respond
        # Built once: a statement reused with new parameters skips SQLAlchemy's per-call building and cache-key work.
        self._insert = insert(QuestionRow).returning(QuestionRow.id)

    async def record(
        self, *, user_id: str, conversation_id: str | None, text: str, redacted: bool,
        policy_version_id: int | None, answered: bool, passages: list[dict],
    ) -> int:
        # A Core insert: this runs on every question, and the ORM's unit of work costs several times more.
        values = dict(
            user_id=user_id, conversation_id=conversation_id, asked_at=datetime.now(timezone.utc), text=text,
            redacted=redacted, policy_version_id=policy_version_id, answered=answered, passages=passages,
        )
        async with self._db.engine.begin() as connection:
            return (await connection.execute(self._insert, values)).scalar_one()

    async def get(self, question_id: int) -> QuestionRecord | None:
        async with self._db.sessions() as session:
            row = await session.get(QuestionRow, question_id)
            return _record(row) if row else None

    async def set_feedback(self, question_id: int, user_id: str, value: str) -> bool:
        """Only the person who asked may rate the answer; False if that is not them or no such question."""
        if value not in FEEDBACK_VALUES:
            raise ValueError(f"feedback must be one of {FEEDBACK_VALUES}")
        async with self._db.sessions.begin() as session:
            result = await session.execute(
                update(QuestionRow)
                .where(QuestionRow.id == question_id, QuestionRow.user_id == user_id)
                .values(feedback=value, feedback_at=datetime.now(timezone.utc))
            )
            return result.rowcount == 1

    @asynccontextmanager
    async def escalate(
        self, question_id: int, user_id: str, *, asker_name: str | None, anonymous: bool, reason: str,
        comment: str | None,
    ) -> AsyncIterator[Change[QuestionRecord]]:
        """Pass a question to the governance team: a reference, the audit entry and the notifications the caller
        queues on the change, in one transaction. Raises NotTheAsker if it is not this user's question, and
        AlreadyPassedOn if it was passed on already, however close together two clicks came (the change applies
        only while it has no reference); both before yielding."""
        now = datetime.now(timezone.utc)
        try:
            async with self._db.sessions.begin() as session:
                row = await session.get(QuestionRow, question_id)
                if row is None or row.user_id != user_id:
                    raise NotTheAsker(question_id)
                if row.reference is not None:
                    raise AlreadyPassedOn(_record(row))
                reference = await next_reference(session, QuestionRow.reference, "Q", now)
                values = dict(reference=reference, escalated_at=row.escalated_at or now, asker_name=asker_name,
                              anonymous=anonymous, escalation_reason=reason, escalation_comment=comment,
                              escalation_status="waiting", updated_at=now)
                result = await session.execute(update(QuestionRow).where(
                    QuestionRow.id == question_id, QuestionRow.reference.is_(None)).values(**values)
                    .execution_options(synchronize_session=False))
                if result.rowcount != 1:
                    raise _PassedOnMeanwhile  # rolls back, so the reference number is not used up
                await session.refresh(row)
                await self._audit.append_in(session, user_id, "question.escalated", f"question:{row.id}",
                                            {"reference": reference, "reason": reason, "anonymous": anonymous},
                                            private={"comment": comment} if comment else None)
                change = Change(_record(row))
                yield change
                await self._outbox.add_notifications_in(session, change.notifications)
        except _PassedOnMeanwhile:
            raise AlreadyPassedOn(await self.get(question_id)) from None

    async def by_reference(self, reference: str) -> QuestionRecord | None:
        async with self._db.sessions() as session:
            row = (await session.execute(select(QuestionRow).where(QuestionRow.reference == reference))).scalar()
            return _record(row) if row else None

    @asynccontextmanager
    async def respond(
        self, reference: str, *, version: int, status: str, response: dict, actor_id: str, actor_name: str | None,
    ) -> AsyncIterator[Change[QuestionRecord]]:
        """Record a governance member's response if the question still waits at `version` (checked in the
        database): the first response wins, and a retried click changes nothing.

        Raises LookupError or StaleEscalation before yielding; the caller queues the notifications."""
        now = datetime.now(timezone.utc)
        async with self._db.sessions.begin() as session:
            row = (await session.execute(select(QuestionRow).where(QuestionRow.reference == reference))).scalar()
            if row is None:
                raise LookupError(reference)
            values = dict(escalation_status=status, response=response, responder_id=actor_id, responder_name=actor_name,
                          responded_at=now)
            if not await update_if_unchanged(session, QuestionRow, row.id, version, values, now,
                                             QuestionRow.escalation_status == "waiting"):
                raise StaleEscalation(reference)
            await session.refresh(row)
            words = {k: v for k, v in response.items() if k in ("text", "search")}
            await self._audit.append_in(session, actor_id, f"question.{status}", f"question:{row.id}",
                                        {"reference": reference, "section": response.get("section")}, private=words or None)
            change = Change(_record(row))
            yield change
            await self._outbox.add_notifications_in(session, change.notifications)

    async def note_answer_sent(self, question_id: int, activity_id: str | None) -> None:
        """Teams' id of the message that carried the answer: its feedback control names that message."""
        if not activity_id:
            return
        async with self._db.sessions.begin() as session:
            await session.execute(update(QuestionRow).where(QuestionRow.id == question_id)
                                  .values(answer_activity_id=activity_id[:200]))

    async def by_answer(self, activity_id: str | None) -> QuestionRecord | None:
        if not activity_id:
            return None
        async with self._db.sessions() as session:
            row = (await session.execute(select(QuestionRow).where(QuestionRow.answer_activity_id == activity_id[:200])
                                         .order_by(QuestionRow.id.desc()).limit(1))).scalar()
            return _record(row) if row else None
