"""Audit verification, retention purge and subject access, through the CLI on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import text, update

from storage.audit import AuditTrail
from storage.db import Database
from domain.approvals import RequestForm
from domain.incidents import IncidentForm
from storage.approvals import ApprovalRepository
from storage.incidents import IncidentRepository
from storage.models import ApprovalRequestRow, IncidentRow, QuestionRow
from storage.outbox import Outbox
from storage.tools import ToolRepository
from storage.policies import PolicyRepository
from storage.questions import QuestionRepository
from test_settings_and_cli import run


async def test_verify_purge_and_export(database_url):
    env = {"DATABASE_URL": database_url, "RETENTION_QUESTIONS_DAYS": "90"}
    db = Database(database_url)
    await db.upgrade()
    audit = AuditTrail(db)
    await PolicyRepository(db, audit).publish(label="1", text="# 1. Purpose\nText.", source_name="p.md", published_by="ann")
    questions = QuestionRepository(db)
    old = await questions.record(user_id="aad-1", conversation_id="c", text="old question", redacted=False,
                                 policy_version_id=None, answered=True, passages=[])
    await questions.record(user_id="aad-1", conversation_id="c", text="new question", redacted=False,
                           policy_version_id=None, answered=False, passages=[])
    await questions.record(user_id="aad-2", conversation_id="d", text="someone else's", redacted=False,
                           policy_version_id=None, answered=False, passages=[])
    await audit.append("aad-1", "question.escalated", "question:2", {})
    outbox = Outbox(db)
    tools = ToolRepository(db, audit)
    incidents, requests = IncidentRepository(db, audit), ApprovalRepository(db, audit, tools)
    report = IncidentForm("A chatbot leaked a file.", "ChatGPT", datetime.now(timezone.utc), "no", "data_exposed", "low", False)
    request = RequestForm("Gamma", "Slides.", "public", "Reports.", "Slides.", "Briefings.", "public", None)
    for _ in range(2):
        await incidents.create(report, reporter_id="aad-1", reporter_name="Ann", notify=lambda i: [], outbox=outbox)
        await requests.create(request, requester_id="aad-1", requester_name="Ann", notify=lambda r: [], outbox=outbox)
    long_ago = datetime.now(timezone.utc) - timedelta(days=2200)
    async with db.sessions.begin() as session:
        await session.execute(update(QuestionRow).where(QuestionRow.id == old)
                              .values(asked_at=datetime.now(timezone.utc) - timedelta(days=91)))
        # Long closed: past retention. Just as old but still open: kept.
        await session.execute(update(IncidentRow).values(updated_at=long_ago))
        await session.execute(update(IncidentRow).where(IncidentRow.id == 1).values(status="resolved"))
        await session.execute(update(ApprovalRequestRow).values(updated_at=long_ago))
        await session.execute(update(ApprovalRequestRow).where(ApprovalRequestRow.id == 1).values(status="rejected"))

    exported = json.loads(run("export-user", "aad-1", env=env).stdout)
    assert [q["text"] for q in exported["questions"]] == ["old question", "new question"]
    assert [a["action"] for a in exported["audit_entries"]] == [
        "question.escalated", "incident.reported", "approval.requested", "incident.reported", "approval.requested"]
    assert len(exported["incidents_reported"]) == 2 and len(exported["tool_requests"]) == 2

    dry = run("purge", "--dry-run", env=env).stdout
    assert "questions older than 90 days due for deletion: 1" in dry
    assert "incidents older than 2190 days due for deletion: 1" in dry
    assert "tool requests older than 2190 days due for deletion: 1" in dry
    assert "questions older than 90 days deleted: 1" in run("purge", env=env).stdout
    assert "deleted: 1" not in run("purge", env=env).stdout
    remaining = json.loads(run("export-user", "aad-1", env=env).stdout)
    assert [q["text"] for q in remaining["questions"]] == ["new question"]
    assert [i["status"] for i in remaining["incidents_reported"]] == ["new"]
    assert [r["status"] for r in remaining["tool_requests"]] == ["pending"]

    verified = run("audit", "verify", env=env)
    # publish, escalation, 2 reports, 2 requests, and one purge entry for each of the three kinds purged
    assert verified.returncode == 0 and "intact: 9 entries" in verified.stdout
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE audit_log SET detail = '{\"deleted\": 0}' WHERE action = 'retention.purged'"))
    broken = run("audit", "verify", env=env)
    assert broken.returncode == 1 and "BROKEN at entry 7" in broken.stderr and "retention.purged" in broken.stderr
    await db.dispose()
