"""Reading the questions asked, for the governance team's report (domain/question_report.py).

Kept apart from storage/questions.py, which records each question as it is asked: this module only
reads, in bulk, what the review needs. Question text is stored redacted, so nothing here un-redacts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from domain.records import QuestionRecord
from storage.db import Database
from storage.models import QuestionRow
from storage.questions import _record


class QuestionLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def asked_since(self, since: datetime | None) -> list[QuestionRecord]:
        async with self._db.sessions() as session:
            query = select(QuestionRow).order_by(QuestionRow.asked_at)
            if since is not None:
                query = query.where(QuestionRow.asked_at >= since)
            return [_record(row) for row in (await session.execute(query)).scalars()]

    async def escalations_waiting(self) -> list[QuestionRecord]:
        """Questions passed to the governance team that nobody has answered yet, oldest first."""
        async with self._db.sessions() as session:
            rows = await session.execute(select(QuestionRow).where(QuestionRow.escalation_status == "waiting")
                                         .order_by(QuestionRow.escalated_at))
            return [_record(row) for row in rows.scalars()]
