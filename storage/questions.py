"""Questions asked of the bot, as kept under policy 9.2 (redacted, with what was answered)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import insert, update

from storage.db import Database
from storage.models import QuestionRow
from domain.records import QuestionRecord

FEEDBACK_VALUES = ("helpful", "not_helpful")


def _record(row: QuestionRow) -> QuestionRecord:
    return QuestionRecord(
        id=row.id, user_id=row.user_id, asked_at=row.asked_at, text=row.text, redacted=row.redacted,
        answered=row.answered, passages=row.passages, feedback=row.feedback, escalated_at=row.escalated_at,
        policy_version_id=row.policy_version_id,
    )


class QuestionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
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

    async def mark_escalated(self, question_id: int, user_id: str) -> QuestionRecord | None:
        """Mark a question passed to the governance team; None if it is not this user's."""
        async with self._db.sessions.begin() as session:
            row = await session.get(QuestionRow, question_id)
            if row is None or row.user_id != user_id:
                return None
            if row.escalated_at is None:
                row.escalated_at = datetime.now(timezone.utc)
            return _record(row)
