"""Incident reports: committed, with their notifications queued, before the reporter hears 'received'.

Each write is a unit of work (storage/changes.py): the caller queues the notifications on the yielded
`Change`, and they commit with the record."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import AsyncIterator

from sqlalchemy import select

from domain.incidents import IncidentForm
from storage.audit import AuditTrail
from storage.changes import Change
from storage.db import Database
from storage.models import IncidentRow
from domain.records import Incident
from storage.outbox import Outbox
from storage.references import next_reference
from storage.times import as_utc
from storage.versioned import update_if_unchanged


def _incident(row: IncidentRow) -> Incident:
    return Incident(
        reference=row.reference, reporter_id=row.reporter_id, reporter_name=row.reporter_name, anonymous=row.anonymous,
        description=row.description, tool_name=row.tool_name, occurred_at=as_utc(row.occurred_at),
        personal_data=row.personal_data, category=row.category, severity=row.severity, status=row.status,
        assignee_id=row.assignee_id, assignee_name=row.assignee_name, outcome=row.outcome, notes=list(row.notes or []),
        version=row.version, reported_at=as_utc(row.reported_at), updated_at=as_utc(row.updated_at),
    )


class StaleIncident(Exception):
    """Someone else changed the incident first; the caller shows them the current state."""


class IncidentRepository:
    def __init__(self, db: Database, audit: AuditTrail, outbox: Outbox) -> None:
        self._db = db
        self._audit = audit
        self._outbox = outbox

    @asynccontextmanager
    async def create(self, form: IncidentForm, *, reporter_id: str,
                     reporter_name: str | None) -> AsyncIterator[Change[Incident]]:
        """A new incident; the caller queues its notifications on the change before it commits."""
        now = datetime.now(timezone.utc)
        async with self._db.sessions.begin() as session:
            row = IncidentRow(
                reference=await next_reference(session, IncidentRow.reference, "INC", now), reporter_id=reporter_id, reporter_name=reporter_name,
                anonymous=form.anonymous, description=form.description, tool_name=form.tool_name,
                occurred_at=form.occurred_at, personal_data=form.personal_data, category=form.category,
                severity=form.severity, status="new", notes=[], version=1, reported_at=now, updated_at=now,
            )
            session.add(row)
            await session.flush()
            await self._audit.append_in(session, reporter_id, "incident.reported", f"incident:{row.reference}",
                                        {"category": form.category, "severity": form.severity,
                                         "personal_data": form.personal_data, "anonymous": form.anonymous})
            change = Change(_incident(row))
            yield change
            await self._outbox.add_notifications_in(session, change.notifications)

    async def get(self, reference: str) -> Incident | None:
        async with self._db.sessions() as session:
            row = (await session.execute(select(IncidentRow).where(IncidentRow.reference == reference))).scalar()
            return _incident(row) if row else None

    async def for_reporter(self, reporter_id: str) -> list[Incident]:
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(IncidentRow).where(IncidentRow.reporter_id == reporter_id).order_by(IncidentRow.id.desc())
            )
            return [_incident(row) for row in rows.scalars()]

    async def unresolved(self) -> list[Incident]:
        """Every incident not resolved yet, in the order they were reported."""
        async with self._db.sessions() as session:
            rows = await session.execute(select(IncidentRow).where(IncidentRow.status != "resolved").order_by(IncidentRow.id))
            return [_incident(row) for row in rows.scalars()]

    @asynccontextmanager
    async def change(
        self, reference: str, *, version: int, changes: dict, actor_id: str, actor_name: str | None, action: str,
    ) -> AsyncIterator[Change[Incident]]:
        """Apply a triage change if nobody changed the incident since `version` (checked in the database).

        Raises LookupError or StaleIncident before yielding; the caller queues the notifications."""
        now = datetime.now(timezone.utc)
        async with self._db.sessions.begin() as session:
            row = (await session.execute(select(IncidentRow).where(IncidentRow.reference == reference))).scalar()
            if row is None:
                raise LookupError(reference)
            values = {k: v for k, v in changes.items() if k != "note"}
            if action == "assign":
                values.update(assignee_id=actor_id, assignee_name=actor_name)
            if "note" in changes:
                values["notes"] = [*(row.notes or []), {"by": actor_name or actor_id, "at": now.isoformat(), "text": changes["note"]}]
            if not await update_if_unchanged(session, IncidentRow, row.id, version, values, now):
                raise StaleIncident(reference)
            await session.refresh(row)
            incident = _incident(row)
            # The note or outcome is free text under retention: kept beside the entry, and gone when the incident is purged.
            words = {k: v for k, v in changes.items() if k in ("note", "outcome")}
            await self._audit.append_in(session, actor_id, f"incident.{action}", f"incident:{reference}",
                                        {"version": incident.version, **{k: v for k, v in changes.items() if k not in words}},
                                        private=words)
            change = Change(incident)
            yield change
            await self._outbox.add_notifications_in(session, change.notifications)
