"""Subject access (UK GDPR): what the bot holds about one person.

Their own records come in full: profile, chats, questions, acknowledgements, the incidents they
reported (anonymous or not: it is their own report) and the tools they requested.

Someone else's record that names this person only as the one who acted on it (the triage member
who assigned or noted an incident, the approver who questioned or decided a request) is someone
else's data. From those comes only this person's own action: the reference, what they did, when,
and their own words. So a handler's export never shows a reporter, anonymous or not.

Messages the bot sent them come with their content when the message is about them; a message
about someone else's record (a triage card sent to them 1:1) shows only that it was sent."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import or_, select

from storage.audit import AuditTrail
from storage.audit_chain import LEGACY, LEGACY_FREE_TEXT
from storage.db import Database
from storage.models import (
    AcknowledgementRow, ApprovalRequestRow, ConversationRow, IncidentRow, OutboxRow, QuestionRow, UserRow,
)
from domain.records import AuditEntry

# Outbox keys start with the record a message is about: "incident:INC-2026-0001:…", "approval:REQ-2026-0001:…",
# "question:Q-2026-0001:…"; audit subjects name a question by its number ("question:12").
RECORD_KINDS = ("incident", "approval", "question")


def _plain(row) -> dict:
    return {column.name: getattr(row, column.name) for column in row.__table__.columns}


def _action(entry: AuditEntry) -> dict:
    """One thing this person did: when, what, the facts recorded, and what they wrote (their own words, until the
    record is purged; entries from before migration 0005 kept them in the detail)."""
    detail = {k: v for k, v in entry.detail.items() if entry.scheme != LEGACY or k not in LEGACY_FREE_TEXT}
    words = entry.words if entry.scheme != LEGACY else {k: v for k, v in entry.detail.items() if k in LEGACY_FREE_TEXT}
    return {"at": entry.at.isoformat(), "action": entry.action, "detail": detail, **words}


def _record_of(key_or_subject: str) -> tuple[str, str] | None:
    kind, _, rest = key_or_subject.partition(":")
    reference = rest.split(":", 1)[0]
    return (kind, reference) if kind in RECORD_KINDS and reference else None


def _message(row: OutboxRow, own: set[tuple[str, str]]) -> dict:
    about = _record_of(row.key)
    message = {"created_at": row.created_at, "sent_at": row.sent_at, "status": row.status,
               "about": about[1] if about else None, "update": row.update_of is not None}
    if about is None or about in own:
        activity = row.activity or {}
        message["content"] = {"text": activity.get("text"),
                              "cards": [a.get("content") for a in activity.get("attachments", []) if isinstance(a, dict)]}
    else:
        message["withheld"] = "This message was about another person's record, so only the fact it was sent is shown."
    return message


class SubjectAccess:
    def __init__(self, db: Database, audit: AuditTrail) -> None:
        self._db = db
        self._audit = audit

    async def export(self, user_id: str) -> dict:
        async with self._db.sessions() as session:
            async def rows(query) -> list:
                return list((await session.execute(query)).scalars())

            user = await session.get(UserRow, user_id)
            reported = await rows(select(IncidentRow).where(IncidentRow.reporter_id == user_id).order_by(IncidentRow.id))
            requested = await rows(select(ApprovalRequestRow).where(ApprovalRequestRow.requester_id == user_id)
                                   .order_by(ApprovalRequestRow.id))
            questions = await rows(select(QuestionRow).where(QuestionRow.user_id == user_id).order_by(QuestionRow.id))
            own = {("incident", r.reference) for r in reported} | {("approval", r.reference) for r in requested}
            own |= {("question", name) for r in questions for name in (str(r.id), r.reference) if name}
            assigned = {r.reference for r in await rows(select(IncidentRow).where(IncidentRow.assignee_id == user_id))}
            decided = {r.reference for r in await rows(select(ApprovalRequestRow)
                                                       .where(ApprovalRequestRow.decided_by_id == user_id))}
            sent = await rows(select(OutboxRow).where(or_(
                OutboxRow.conversation["user_id"].as_string() == user_id,
                OutboxRow.conversation["id"].as_string() == f"unreachable:{user_id}",
            )).order_by(OutboxRow.id))
            data = {
                "user_id": user_id,
                "exported_at": datetime.now(timezone.utc).isoformat(),
                "profile": _plain(user) if user else None,
                "conversations": [_plain(r) for r in await rows(select(ConversationRow)
                                                                .where(ConversationRow.user_id == user_id))],
                "questions": [_plain(r) for r in questions],
                "acknowledgements": [_plain(r) for r in await rows(select(AcknowledgementRow)
                                                                   .where(AcknowledgementRow.user_id == user_id)
                                                                   .order_by(AcknowledgementRow.id))],
                "incidents_reported": [_plain(r) for r in reported],
                "tool_requests": [_plain(r) for r in requested],
                "messages_to_you": [_message(r, own) for r in sent],
            }
        entries = await self._audit.by_actor(user_id)
        data.update(_handled(entries, own, assigned, decided))
        data["your_actions"] = [{**_action(entry), "subject": entry.subject} for entry in entries]
        return data


def _handled(entries: list[AuditEntry], own: set[tuple[str, str]], assigned: set[str], decided: set[str]) -> dict:
    """Other people's records this person acted on: only their own actions on each."""
    handled: dict[tuple[str, str], list[dict]] = {}
    for entry in entries:
        record = _record_of(entry.subject)
        if record and record not in own:
            handled.setdefault(record, []).append(_action(entry))
    return {
        "incidents_handled": [
            {"reference": reference, "assigned_to_you": reference in assigned, "your_actions": actions}
            for (kind, reference), actions in handled.items() if kind == "incident"],
        "tool_requests_handled": [
            {"reference": reference, "decided_by_you": reference in decided, "your_actions": actions}
            for (kind, reference), actions in handled.items() if kind == "approval"],
        # Questions passed to the governance team that this person answered: the asker's question is theirs.
        "questions_answered": [{"question": number, "your_actions": actions}
                               for (kind, number), actions in handled.items() if kind == "question"],
    }
