"""Audit verification, retention purge and subject access, through the CLI on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select, text, update

from support.activities import card_action, message
from support.bots import make_settings, running_bot

from storage.audit import AuditTrail
from storage.db import Database, _sqlite_pragmas
from domain.approvals import RequestForm
from domain.incidents import IncidentForm
from storage.approvals import ApprovalRepository
from storage.incidents import IncidentRepository
from storage.models import ApprovalRequestRow, AuditHeadRow, AuditRow, IncidentRow, OutboxRow, QuestionRow
from storage.outbox import Outbox
from storage.tools import ToolRepository
from storage.policies import PolicyRepository
from storage.questions import QuestionRepository
from support.legacy_audit import GENESIS, append_legacy, migrate_to_0004
from support.processes import run_cli


async def test_verify_purge_and_export(database_url):
    env = {"DATABASE_URL": database_url, "RETENTION_QUESTIONS_DAYS": "90"}
    db = Database(database_url)
    await db.upgrade()
    audit = AuditTrail(db)
    await PolicyRepository(db, audit).publish(label="1", text="# 1. Purpose\nText.", source_name="p.md", published_by="ann")
    questions = QuestionRepository(db, audit)
    old = await questions.record(user_id="aad-1", conversation_id="c", text="old question", redacted=False,
                                 policy_version_id=None, answered=True, passages=[])
    await questions.record(user_id="aad-1", conversation_id="c", text="new question", redacted=False,
                           policy_version_id=None, answered=False, passages=[])
    await questions.record(user_id="aad-2", conversation_id="d", text="someone else's", redacted=False,
                           policy_version_id=None, answered=False, passages=[])
    await audit.append("aad-1", "question.escalated", "question:2", {})
    outbox = Outbox(db)
    tools = ToolRepository(db, audit)
    incidents, requests = IncidentRepository(db, audit, outbox), ApprovalRepository(db, audit, tools, outbox)
    report = IncidentForm("A chatbot leaked a file.", "ChatGPT", datetime.now(timezone.utc), "no", "data_exposed", "low", False)
    request = RequestForm("Gamma", "Slides.", "public", "Reports.", "Slides.", "Briefings.", "public", None)
    for _ in range(2):
        async with incidents.create(report, reporter_id="aad-1", reporter_name="Ann"):
            pass
        async with requests.create(request, requester_id="aad-1", requester_name="Ann"):
            pass
    long_ago = datetime.now(timezone.utc) - timedelta(days=2200)
    async with db.sessions.begin() as session:
        await session.execute(update(QuestionRow).where(QuestionRow.id == old)
                              .values(asked_at=datetime.now(timezone.utc) - timedelta(days=91)))
        # Long closed: past retention. Just as old but still open: kept.
        await session.execute(update(IncidentRow).values(updated_at=long_ago))
        await session.execute(update(IncidentRow).where(IncidentRow.id == 1).values(status="resolved"))
        await session.execute(update(ApprovalRequestRow).values(updated_at=long_ago))
        await session.execute(update(ApprovalRequestRow).where(ApprovalRequestRow.id == 1).values(status="rejected"))

    exported = json.loads(run_cli("export-user", "aad-1", env=env).stdout)
    assert [q["text"] for q in exported["questions"]] == ["old question", "new question"]
    assert [a["action"] for a in exported["your_actions"]] == [
        "question.escalated", "incident.reported", "approval.requested", "incident.reported", "approval.requested"]
    assert len(exported["incidents_reported"]) == 2 and len(exported["tool_requests"]) == 2

    dry = run_cli("purge", "--dry-run", env=env).stdout
    assert "questions older than 90 days due for deletion: 1" in dry
    assert "incidents older than 2190 days due for deletion: 1" in dry
    assert "tool requests older than 2190 days due for deletion: 1" in dry
    assert "questions older than 90 days deleted: 1" in run_cli("purge", env=env).stdout
    assert "deleted: 1" not in run_cli("purge", env=env).stdout
    remaining = json.loads(run_cli("export-user", "aad-1", env=env).stdout)
    assert [q["text"] for q in remaining["questions"]] == ["new question"]
    assert [i["status"] for i in remaining["incidents_reported"]] == ["new"]
    assert [r["status"] for r in remaining["tool_requests"]] == ["pending"]

    verified = run_cli("audit", "verify", env=env)
    # publish, escalation, 2 reports, 2 requests, one purge entry for each of the three kinds purged, and the
    # receipt for clearing the purged request's tool name from its audit entry
    assert verified.returncode == 0 and "intact: 10 entries" in verified.stdout
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE audit_log SET detail = '{\"deleted\": 0}' WHERE action = 'retention.purged'"))
    broken = run_cli("audit", "verify", env=env)
    assert broken.returncode == 1 and "BROKEN at entry 7" in broken.stderr and "retention.purged" in broken.stderr
    await db.dispose()


# ---------- a history made through the real HTTP edge, shared by the retention and subject access tests ----------

GOV, APP1, STAFF = "aad-gov", "aad-app1", "aad-staff"
FREE_TEXT = {
    "description": "DESCRIPTION-Kim pasted the Brent housing list into a chatbot",
    "note": "NOTE-spoke to Kim Lee about the housing list",
    "outcome": "OUTCOME-Kim Lee retrained, list deleted",
    "tool": "TOOL-Zeta Notes for Kim",
    "purpose": "PURPOSE-minutes of Kim's casework meetings",
    "question": "QUESTION-will Kim's residents be recorded?",
    "answer": "ANSWER-yes, with consent from Kim's residents",
    "reason": "REASON-Kim should use Teams transcription",
}


async def history(database_url: str, connector, *, anonymous: bool) -> dict:
    """Staff report an incident that a triage member assigns, notes and resolves; staff request a tool that an
    approver questions and rejects. Every card goes 1:1 (no channels registered). Returns the references."""
    settings = make_settings(database_url, governance_ids=GOV, security_ids=GOV, approver_ids=APP1,
                             outbox_base_delay=0.05, connector_timeout=1.0)
    async with running_bot(settings) as bot:
        for user in (GOV, APP1, STAFF):
            await bot.post(message(connector, "help", user=user, conversation_id=f"a:{user}"))

        async def click(verb: str, data: dict, user: str) -> dict:
            response = await bot.post(card_action(connector, verb, data, user=user, conversation_id=f"a:{user}"))
            assert response.status == 200
            return (await response.json())["value"]

        report = {"description": FREE_TEXT["description"], "tool_name": "Copilot", "occurred_at": "2026-11-20 09:30",
                  "personal_data": "no", "category": "data_exposed", "severity": "high",
                  "anonymous": "true" if anonymous else "false"}
        incident = (await click("incident.submit", report, STAFF))["body"][0]["text"].split(": ")[1]
        for version, change in enumerate([{"action": "assign"}, {"action": "note", "note": FREE_TEXT["note"]},
                                          {"action": "resolve", "note": FREE_TEXT["outcome"]}], start=1):
            await click("incident.triage", {"reference": incident, "version": version, **change}, GOV)

        form = {"tool_name": FREE_TEXT["tool"], "purpose": FREE_TEXT["purpose"], "data_classification": "personal",
                "data_description": "Names.", "expected_output": "Minutes.", "output_use": "Shared with the team.",
                "category": "public"}
        request = (await click("approval.submit", form, STAFF))["body"][0]["text"].split(": ")[1]
        await click("approval.decide", {"reference": request, "version": 1, "action": "ask",
                                        "question": FREE_TEXT["question"]}, APP1)
        await click("approval.answer", {"reference": request, "version": 2, "answer": FREE_TEXT["answer"]}, STAFF)
        await click("approval.decide", {"reference": request, "version": 3, "action": "reject",
                                        "reason": FREE_TEXT["reason"]}, APP1)
        await bot.settled()
        assert await bot.services.audit.verify() is None
    return {"incident": incident, "request": request}


def holding(text: str) -> set[str]:
    return {name for name, value in FREE_TEXT.items() if value in text}


async def test_purge_leaves_no_free_text_in_the_audit_trail_or_the_database_file(database_url, connector):
    references = await history(database_url, connector, anonymous=False)
    db = Database(database_url)
    long_ago = datetime.now(timezone.utc) - timedelta(days=2200)
    async with db.sessions.begin() as session:
        await session.execute(update(IncidentRow).values(updated_at=long_ago))
        await session.execute(update(ApprovalRequestRow).values(updated_at=long_ago))
        await session.execute(update(OutboxRow).values(created_at=long_ago))
    async with db.sessions() as session:
        before = [(r.actor, r.action, r.subject, r.at) for r in (await session.execute(select(AuditRow).order_by(AuditRow.id))).scalars()]
    await db.dispose()

    env = {"DATABASE_URL": database_url}
    purged = run_cli("purge", env=env)
    assert purged.returncode == 0, purged.stderr
    assert "incidents older than 2190 days deleted: 1" in purged.stdout
    assert "tool requests older than 2190 days deleted: 1" in purged.stdout

    db = Database(database_url)
    async with db.sessions() as session:
        rows = list((await session.execute(select(AuditRow).order_by(AuditRow.id))).scalars())
        incidents = (await session.execute(select(func.count()).select_from(IncidentRow))).scalar()
    await db.dispose()
    assert incidents == 0
    # Who did what to which record, and when, is all still there; the words are gone.
    after = [(r.actor, r.action, r.subject, r.at) for r in rows]
    assert after[:len(before)] == before
    assert ("aad-gov", "incident.note", f"incident:{references['incident']}") in [a[:3] for a in after]
    assert ("aad-app1", "approval.reject", f"approval:{references['request']}") in [a[:3] for a in after]
    stored = json.dumps([{c.name: getattr(r, c.name) for c in AuditRow.__table__.columns} for r in rows], default=str)
    assert holding(stored) == set()

    verified = run_cli("audit", "verify", env=env)
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stderr

    if database_url.startswith("sqlite"):  # secure_delete: nothing purged survives in free pages or the journal
        path = Path(database_url.split(":///", 1)[1])
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert {name for name, value in FREE_TEXT.items() if value.encode() in raw} == set()
        # Some builds of SQLite (Debian's) have secure_delete on by default, others not: ours sets it either way.
        connection = sqlite3.connect(path.parent / "pragmas.db")
        connection.execute("PRAGMA secure_delete=OFF")
        _sqlite_pragmas(connection, None)
        assert connection.execute("PRAGMA secure_delete").fetchone() == (1,)
        connection.close()



async def test_purge_clears_free_text_from_entries_written_before_the_format_changed(database_url):
    """Entries from before migration 0005 held notes in their detail, under a plain hash of everything."""
    db = Database(database_url)
    await migrate_to_0004(db)
    long_ago = datetime.now(timezone.utc) - timedelta(days=2200)
    prev = GENESIS
    async with db.engine.begin() as connection:
        for n in (1, 2):
            reference = f"REQ-2020-000{n}"
            await connection.execute(ApprovalRequestRow.__table__.insert().values(
                reference=reference, requester_id="aad-staff", tool_name="Gamma", purpose="Slides.",
                data_classification="public", data_description="None.", expected_output="Slides.", output_use="Briefings.",
                category="public", status="rejected", decision_note=f"Reason {n}: Kim Lee", thread=[], version=2,
                requested_at=long_ago, updated_at=long_ago if n == 1 else datetime.now(timezone.utc)))
            for action, detail in (("approval.requested", {"tool": "Gamma", "to": "pending"}),
                                   ("approval.reject", {"from": "pending", "to": "rejected", "note": f"Reason {n}: Kim Lee"})):
                prev = await append_legacy(connection, prev, long_ago, "aad-app1", action, f"approval:{reference}", detail)
        await connection.execute(update(AuditHeadRow).values(appended=4))
    await db.dispose()

    env = {"DATABASE_URL": database_url}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    purged = run_cli("purge", env=env)
    assert "tool requests older than 2190 days deleted: 1" in purged.stdout
    assert "audit entries cleared of the purged records' free text: 2" in purged.stdout
    db = Database(database_url)
    async with db.sessions() as session:
        details = {(r.subject, r.action): r.detail for r in (await session.execute(select(AuditRow))).scalars()}
    await db.dispose()
    assert details[("approval:REQ-2020-0001", "approval.reject")] == {"from": "pending", "to": "rejected"}
    assert details[("approval:REQ-2020-0001", "approval.requested")] == {"to": "pending"}
    assert details[("approval:REQ-2020-0002", "approval.reject")]["note"] == "Reason 2: Kim Lee"  # not due yet: kept
    verified = run_cli("audit", "verify", env=env)
    assert verified.returncode == 0 and "intact: 6 entries" in verified.stdout, verified.stderr  # 4, a receipt, the purge
    # Clearing text by hand, outside a purge, shows: no receipt in the chain covers it.
    db = Database(database_url)
    async with db.sessions.begin() as session:
        await session.execute(update(AuditRow).where(AuditRow.subject == "approval:REQ-2020-0002")
                              .values(detail={"to": "pending"}, scrubbed_at=datetime.now(timezone.utc)))
    await db.dispose()
    cleared = run_cli("audit", "verify", env=env)
    assert cleared.returncode == 1 and "without a purge recording it" in cleared.stderr


async def test_subject_access_exports_what_is_about_the_person_and_only_their_own_actions_on_others(database_url, connector):
    references = await history(database_url, connector, anonymous=True)
    env = {"DATABASE_URL": database_url}

    def export(user: str) -> tuple[dict, str]:
        result = run_cli("export-user", user, env=env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout), result.stdout

    # The triage member who handled an anonymous report: their own actions and words, never the reporter.
    handler, text = export(GOV)
    assert STAFF not in text and f"User {STAFF}" not in text
    assert holding(text) == {"note", "outcome"}
    [handled] = handler["incidents_handled"]
    assert handled["reference"] == references["incident"] and handled["assigned_to_you"] is True
    assert [a["action"] for a in handled["your_actions"]] == ["incident.assign", "incident.note", "incident.resolve"]
    assert handled["your_actions"][1]["note"] == FREE_TEXT["note"]
    assert handler["messages_to_you"] and all("content" not in m for m in handler["messages_to_you"])

    # The approver: their question and decision, not the requester's request.
    approver, text = export(APP1)
    assert STAFF not in text and holding(text) == {"question", "reason"}
    [decided] = approver["tool_requests_handled"]
    assert decided["reference"] == references["request"]
    assert [(a["action"], a.get("note")) for a in decided["your_actions"]] == [
        ("approval.ask", FREE_TEXT["question"]), ("approval.reject", FREE_TEXT["reason"])]

    # The person who reported and requested: their records in full, and every message the bot sent them.
    staff, text = export(STAFF)
    assert [i["reference"] for i in staff["incidents_reported"]] == [references["incident"]]
    assert [r["reference"] for r in staff["tool_requests"]] == [references["request"]]
    assert holding(text) == set(FREE_TEXT)
    sent = json.dumps([m["content"] for m in staff["messages_to_you"]])
    assert "is being handled by" in sent and "has been resolved" in sent  # the incident's status updates
    assert FREE_TEXT["question"] in sent and "has been **rejected**" in sent  # the approver's question and decision
