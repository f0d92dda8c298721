"""Storage on SQLite and PostgreSQL: migrations, references, audit chain."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from storage.audit import AuditTrail
from storage.conversations import ConversationRepository, UserRepository
from storage.db import Database
from storage.policies import DuplicateVersion, PolicyRepository
from domain.records import ConversationRef


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.dispose()


async def test_migrations_bring_the_schema_to_head(db):
    assert await db.schema_problem() is None
    assert await db.current_revision() == db.head_revision()
    await db.upgrade()  # running again is harmless
    assert await db.schema_problem() is None


async def test_the_schema_checks_read_without_alembic_agree_with_alembic(database_url):
    """Read-only commands check the schema without importing alembic (storage/db.py); it must say what alembic says."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    database = Database(database_url)
    try:
        assert database.head_revision() == ScriptDirectory.from_config(database._alembic_config()).get_current_head()
        assert await database.current_revision() is None
        await database.upgrade()
        async with database.engine.connect() as connection:
            recorded = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
        assert await database.current_revision() == recorded == database.head_revision()
    finally:
        await database.dispose()


async def test_conversation_references_are_saved_and_found(db):
    repo = ConversationRepository(db)
    ref = ConversationRef(id="a:1", kind="personal", service_url="https://smba.example/", channel_id="msteams",
                          bot_id="28:bot", tenant_id="t", user_id="aad-1", user_teams_id="29:1")
    await repo.save(ref)
    await repo.save(ref)
    assert await repo.get("a:1") == ref
    assert await repo.personal_for("aad-1") == ref
    moved = ConversationRef(**{**ref.__dict__, "service_url": "https://smba.other/"})
    await ConversationRepository(db).save(moved)
    assert (await repo.get("a:1")).service_url == "https://smba.other/"


async def test_a_user_is_welcomed_exactly_once_even_when_two_processes_race(db):
    first, second = UserRepository(db), UserRepository(db)
    results = await asyncio.gather(
        *[repo.needs_welcome("aad-7", name="Sam", teams_user_id="29:7", tenant_id="t") for repo in (first, second) * 3]
    )
    assert sum(results) == 1


async def test_policy_versions_and_the_audit_chain(db):
    audit = AuditTrail(db)
    policies = PolicyRepository(db, audit)
    await policies.publish(label="1.0", text="# 1. Purpose\nText.", source_name="p.md", published_by="ann")
    second = await policies.publish(label="1.1", text="# 1. Purpose\nNew.", source_name="p.md", published_by="bob")
    assert (await policies.current()).label == "1.1" == second.label
    with pytest.raises(DuplicateVersion):
        await policies.publish(label="1.0", text="x", source_name="p.md", published_by="eve")
    await asyncio.gather(*[audit.append("u", "test.event", f"s:{n}", {"n": n}) for n in range(6)])
    assert await audit.verify() is None
    entries = await audit.entries()
    assert len(entries) == 8
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = :id"), {"id": entries[3].id})
    broken = await audit.verify()
    assert broken is not None and broken.id == entries[3].id


async def test_concurrent_first_saves_of_one_conversation_do_not_collide(db):
    """Teams (and the Playground) send installationUpdate and conversationUpdate at the same moment."""
    ref = ConversationRef(id="a:race", kind="personal", service_url="https://smba.example/", channel_id="msteams",
                          bot_id="28:bot", user_id="aad-9")
    await asyncio.gather(*[ConversationRepository(db).save(ref) for _ in range(8)])
    assert await ConversationRepository(db).get("a:race") == ref


async def test_two_outbox_workers_never_claim_the_same_entry(db):
    from storage.outbox import Outbox

    ref = ConversationRef(id="a:1", kind="personal", service_url="http://x", channel_id="msteams", bot_id="b")
    async with db.sessions.begin() as session:
        for n in range(60):
            await Outbox(db).add_in(session, f"event-{n}", ref, {"type": "message", "text": str(n)})
        await Outbox(db).add_in(session, "event-0", ref, {"type": "message", "text": "again"})  # same key: ignored

    first, second = Outbox(db), Outbox(db)  # as two processes would
    claimed: list[int] = []

    async def worker(box: Outbox) -> None:
        while entries := await box.claim(7):
            claimed.extend(e.id for e in entries)
            for entry in entries:
                await box.delivered(entry, f"id-{entry.id}")

    await asyncio.gather(worker(first), worker(second))
    assert len(claimed) == len(set(claimed)) == 60
    assert (await first.counts()) == {"sent": 60}
