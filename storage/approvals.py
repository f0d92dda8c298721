"""Tool approval requests: stored with their notifications; decided once, in the database, whoever clicks first.

Each write is a unit of work (storage/changes.py): the caller queues the notifications on the yielded
`Change`, and they commit with the record."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import AsyncIterator

from sqlalchemy import select

from domain.approvals import REGISTER_CATEGORIES, Decision, RequestForm, review_due
from storage.audit import AuditTrail
from storage.changes import Change
from storage.db import Database
from storage.models import ApprovalRequestRow
from domain.records import ApprovalRequest, Tool
from storage.outbox import Outbox
from storage.references import next_reference
from storage.times import as_utc
from storage.tools import ToolRepository
from storage.versioned import update_if_unchanged


def _request(row: ApprovalRequestRow) -> ApprovalRequest:
    return ApprovalRequest(
        reference=row.reference, requester_id=row.requester_id, requester_name=row.requester_name,
        tool_name=row.tool_name, purpose=row.purpose, data_classification=row.data_classification,
        data_description=row.data_description, expected_output=row.expected_output, output_use=row.output_use,
        category=row.category, vendor_url=row.vendor_url, status=row.status, decided_by_id=row.decided_by_id,
        decided_by_name=row.decided_by_name, decided_at=as_utc(row.decided_at), decision_note=row.decision_note,
        thread=list(row.thread or []), version=row.version, requested_at=as_utc(row.requested_at),
        updated_at=as_utc(row.updated_at),
    )


class StaleRequest(Exception):
    """Someone acted on the request first; the caller shows the current state."""


class ApprovalRepository:
    def __init__(self, db: Database, audit: AuditTrail, tools: ToolRepository, outbox: Outbox) -> None:
        self._db = db
        self._audit = audit
        self._tools = tools
        self._outbox = outbox

    @asynccontextmanager
    async def create(self, form: RequestForm, *, requester_id: str,
                     requester_name: str | None) -> AsyncIterator[Change[ApprovalRequest]]:
        """A new pending request; the caller queues its notifications on the change before it commits."""
        now = datetime.now(timezone.utc)
        async with self._db.sessions.begin() as session:
            row = ApprovalRequestRow(
                reference=await next_reference(session, ApprovalRequestRow.reference, "REQ", now),
                requester_id=requester_id, requester_name=requester_name, tool_name=form.tool_name,
                purpose=form.purpose, data_classification=form.data_classification,
                data_description=form.data_description, expected_output=form.expected_output,
                output_use=form.output_use, category=form.category, vendor_url=form.vendor_url, status="pending",
                thread=[], version=1, requested_at=now, updated_at=now,
            )
            session.add(row)
            await session.flush()
            await self._audit.append_in(session, requester_id, "approval.requested", f"approval:{row.reference}",
                                        {"data_classification": form.data_classification, "category": form.category,
                                         "to": "pending"}, private={"tool": form.tool_name})
            change = Change(_request(row))
            yield change
            await self._outbox.add_notifications_in(session, change.notifications)

    async def get(self, reference: str) -> ApprovalRequest | None:
        async with self._db.sessions() as session:
            row = (await session.execute(
                select(ApprovalRequestRow).where(ApprovalRequestRow.reference == reference))).scalar()
            return _request(row) if row else None

    async def for_requester(self, requester_id: str) -> list[ApprovalRequest]:
        async with self._db.sessions() as session:
            rows = await session.execute(select(ApprovalRequestRow)
                                         .where(ApprovalRequestRow.requester_id == requester_id)
                                         .order_by(ApprovalRequestRow.id.desc()))
            return [_request(row) for row in rows.scalars()]

    async def pending(self) -> list[ApprovalRequest]:
        """Every request not decided yet, in the order they were made."""
        async with self._db.sessions() as session:
            rows = await session.execute(select(ApprovalRequestRow).where(ApprovalRequestRow.status == "pending")
                                         .order_by(ApprovalRequestRow.id))
            return [_request(row) for row in rows.scalars()]

    @asynccontextmanager
    async def decide(self, reference: str, *, version: int, decision: Decision, actor_id: str,
                     actor_name: str | None) -> AsyncIterator[Change[ApprovalRequest]]:
        """Record a decision or a question, if nobody acted since `version` (checked by the database).

        Raises LookupError or StaleRequest before yielding; the caller queues the notifications."""
        now = datetime.now(timezone.utc)
        async with self._db.sessions.begin() as session:
            row = (await session.execute(
                select(ApprovalRequestRow).where(ApprovalRequestRow.reference == reference))).scalar()
            if row is None:
                raise LookupError(reference)
            previous = row.status
            if decision.status is None:
                entry = {"kind": "question", "by": actor_name or actor_id, "by_id": actor_id, "at": now.isoformat(),
                         "text": decision.note}
                values = {"thread": [*(row.thread or []), entry]}
            else:
                values = {"status": decision.status, "decided_by_id": actor_id, "decided_by_name": actor_name,
                          "decided_at": now, "decision_note": decision.note}
            if not await update_if_unchanged(session, ApprovalRequestRow, row.id, version, values, now,
                                             ApprovalRequestRow.status == "pending"):
                raise StaleRequest(reference)
            await session.refresh(row)
            request = _request(row)
            await self._audit.append_in(session, actor_id, f"approval.{decision.action}", f"approval:{reference}",
                                        {"from": previous, "to": request.status, "version": request.version},
                                        private={"note": decision.note})
            if decision.status in ("approved", "approved_with_conditions"):
                await self._register(session, request, actor_id)
            change = Change(request)
            yield change
            await self._outbox.add_notifications_in(session, change.notifications)

    async def _register(self, session, request: ApprovalRequest, actor_id: str) -> None:
        decided_on = request.decided_at.date()
        tool = Tool(
            name=request.tool_name, category=REGISTER_CATEGORIES[request.category],
            status="approved" if request.status == "approved" else "approved with conditions",
            conditions=request.decision_note, approved_by=request.decided_by_name or actor_id,
            approved_on=decided_on, review_due=review_due(decided_on),
        )
        await self._tools.upsert_in(session, [tool], actor=actor_id, detail={"request": request.reference},
                                    keep_aliases=True)

    @asynccontextmanager
    async def answer(self, reference: str, *, version: int, requester_id: str,
                     answer: str) -> AsyncIterator[Change[ApprovalRequest]]:
        """The requester's answer to an open question; the request stays pending."""
        now = datetime.now(timezone.utc)
        async with self._db.sessions.begin() as session:
            row = (await session.execute(
                select(ApprovalRequestRow).where(ApprovalRequestRow.reference == reference))).scalar()
            if row is None or row.requester_id != requester_id:
                raise LookupError(reference)
            entry = {"kind": "answer", "by": row.requester_name or requester_id, "by_id": requester_id,
                     "at": now.isoformat(), "text": answer}
            if not await update_if_unchanged(session, ApprovalRequestRow, row.id, version,
                                             {"thread": [*(row.thread or []), entry]}, now,
                                             ApprovalRequestRow.status == "pending"):
                raise StaleRequest(reference)
            await session.refresh(row)
            request = _request(row)
            await self._audit.append_in(session, requester_id, "approval.answered", f"approval:{reference}",
                                        {"from": "pending", "to": "pending", "version": request.version})
            change = Change(request)
            yield change
            await self._outbox.add_notifications_in(session, change.notifications)
