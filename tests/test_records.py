"""Audit verification, retention purge and subject access, through the CLI on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import text, update

from storage.audit import AuditTrail
from storage.db import Database
from storage.models import QuestionRow
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
    async with db.sessions.begin() as session:
        await session.execute(update(QuestionRow).where(QuestionRow.id == old)
                              .values(asked_at=datetime.now(timezone.utc) - timedelta(days=91)))

    exported = json.loads(run("export-user", "aad-1", env=env).stdout)
    assert [q["text"] for q in exported["questions"]] == ["old question", "new question"]
    assert [a["action"] for a in exported["audit_entries"]] == ["question.escalated"]

    assert "due for deletion: 1" in run("purge", "--dry-run", env=env).stdout
    assert "deleted: 1" in run("purge", env=env).stdout
    assert "deleted: 0" in run("purge", env=env).stdout
    remaining = json.loads(run("export-user", "aad-1", env=env).stdout)["questions"]
    assert [q["text"] for q in remaining] == ["new question"]

    verified = run("audit", "verify", env=env)
    assert verified.returncode == 0 and "intact: 3 entries" in verified.stdout  # publish, escalation, purge
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE audit_log SET detail = '{\"deleted\": 0}' WHERE action = 'retention.purged'"))
    broken = run("audit", "verify", env=env)
    assert broken.returncode == 1 and "BROKEN at entry 3" in broken.stderr and "retention.purged" in broken.stderr
    await db.dispose()
