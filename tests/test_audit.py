"""The audit chain against someone with write access to the database: truncation, an edit re-chained without
AUDIT_KEY, an anchor kept elsewhere, and chains written before the chain format changed. Through the CLI, on
SQLite, and PostgreSQL where the database matters."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import delete, func, select, update

from support.activities import card_action, message
from support.bots import make_settings, running_bot
from support.legacy_audit import GENESIS, append_legacy, legacy_hash, migrate_to_0004
from support.processes import run_cli
from storage.db import Database
from storage.models import AuditHeadRow, AuditRow

KEY = "an-audit-key-kept-in-the-council-key-vault-0123456789"


async def some_history(database_url: str, connector, **settings) -> None:
    """A real start-up (first policy and register published) and a real acknowledgement, then the bot stops."""
    async with running_bot(make_settings(database_url, **settings)) as bot:
        await bot.post(message(connector, "acknowledge", user="aad-ann"))
        await bot.post(card_action(connector, "policy.acknowledge", {"version": 1}, user="aad-ann"))
        await bot.settled()


async def rebuild(db: Database, hasher, *, edit: int) -> None:
    """What an attacker with the database but not the key does: change one entry's detail, then re-hash every entry
    after it and the head, so each link and the head's count and hash agree again."""
    columns = AuditRow.__table__.c
    async with db.engine.begin() as connection:
        rows = (await connection.execute(select(AuditRow.id, AuditRow.at, AuditRow.actor, AuditRow.action,
                                                AuditRow.subject, AuditRow.detail).order_by(AuditRow.id))).all()
        prev = GENESIS
        for position, row in enumerate(rows):
            detail = {**row.detail, "forged": True} if position == edit else row.detail
            digest = hasher(prev, row.at, row.actor, row.action, row.subject, detail)
            values = dict(detail=detail, prev_hash=prev, hash=digest)
            # Newer formats: claim every entry is in the first, keyless one.
            values.update({k: v for k, v in dict(scheme=1, keyed=False, private=None, private_digest=None).items()
                           if k in columns})
            await connection.execute(update(AuditRow).where(AuditRow.id == row.id).values(**values))
            prev = digest
        head = {"appended": len(rows), **({"hash": prev} if "hash" in AuditHeadRow.__table__.c else {})}
        await connection.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(**head))


async def test_verify_detects_entries_deleted_from_the_end(database_url, connector):
    await some_history(database_url, connector)
    env = {"DATABASE_URL": database_url}
    intact = run_cli("audit", "verify", env=env)
    assert intact.returncode == 0, intact.stderr
    count = int(re.search(r"intact: (\d+) entries", intact.stdout).group(1))
    assert count > 3

    db = Database(database_url)
    async with db.engine.begin() as connection:
        last = (await connection.execute(select(func.max(AuditRow.id)))).scalar()
        await connection.execute(delete(AuditRow).where(AuditRow.id > last - 2))
    await db.dispose()
    truncated = run_cli("audit", "verify", env=env)
    assert truncated.returncode == 1
    assert f"{count - 2} entries but {count} were recorded" in truncated.stderr
    assert "Traceback" not in truncated.stderr


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """For what doesn't depend on the database (hashing, signing, anchors): SQLite only, to keep the suite quick."""
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


async def test_with_audit_key_an_edit_rechained_without_the_key_is_detected(sqlite_url, connector):
    database_url = sqlite_url
    await some_history(database_url, connector, audit_key=KEY)
    env = {"DATABASE_URL": database_url, "AUDIT_KEY": KEY}
    assert run_cli("audit", "verify", env=env).returncode == 0
    # Nothing appends unsigned (or signed with another key) after signed entries: that would break the chain.
    unkeyed = run_cli("serve", "--local", env={"DATABASE_URL": database_url, "PORT": "1"})
    assert unkeyed.returncode == 2 and "signed with AUDIT_KEY, but AUDIT_KEY is not set" in unkeyed.stderr
    other = run_cli("policy", "publish", "domain/data/example-policy.md", "--version", "x", "--no-remind",
                env={"DATABASE_URL": database_url, "AUDIT_KEY": KEY.upper()})
    assert other.returncode == 2 and "AUDIT_KEY is not the key the audit trail is signed with" in other.stderr

    db = Database(database_url)
    await rebuild(db, legacy_hash, edit=1)  # re-chained in the keyless format anyone can compute
    rebuilt = run_cli("audit", "verify", env=env)
    assert rebuilt.returncode == 1 and "AUDIT_KEY" in rebuilt.stderr, rebuilt.stderr

    from storage.audit import chain_hash  # the current format, with a key of the attacker's choosing

    await rebuild(db, lambda *fields: chain_hash(*fields, None, key=b"guessed"), edit=1)
    async with db.engine.begin() as connection:
        await connection.execute(update(AuditRow).values(scheme=2, keyed=True))
    await db.dispose()
    guessed = run_cli("audit", "verify", env=env)
    assert guessed.returncode == 1 and "BROKEN at entry" in guessed.stderr, guessed.stderr


async def test_an_anchor_kept_elsewhere_catches_a_rebuilt_chain(sqlite_url, connector):
    database_url = sqlite_url
    await some_history(database_url, connector)
    env = {"DATABASE_URL": database_url}
    anchored = run_cli("audit", "anchor", env=env)
    assert anchored.returncode == 0, anchored.stderr
    anchor = re.search(r"(\d+):([0-9a-f]{64})", anchored.stdout)
    assert anchor and re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", anchored.stdout)
    assert run_cli("audit", "verify", "--anchor", anchor.group(0), env=env).returncode == 0

    db = Database(database_url)
    await rebuild(db, legacy_hash, edit=0)
    await db.dispose()
    # Without a key a rebuilt chain is self-consistent; only the anchor kept elsewhere tells.
    checked = run_cli("audit", "verify", "--anchor", anchor.group(0), env=env)
    assert checked.returncode == 1 and f"entry {anchor.group(1)} does not match the anchor" in checked.stderr


async def test_a_chain_written_before_the_format_changed_migrates_and_keeps_verifying(sqlite_url):
    """(On PostgreSQL, tests/test_records.py migrates such a chain, purges it and verifies it.)"""
    database_url = sqlite_url
    db = Database(database_url)
    await migrate_to_0004(db)

    prev = GENESIS
    async with db.engine.begin() as connection:
        for n in range(4):
            at = datetime(2026, 1, 1 + n, 9, 30, tzinfo=timezone.utc)
            detail = {"from": "pending", "to": "rejected", "note": f"Reason {n}, said Ann"}
            prev = await append_legacy(connection, prev, at, "aad-app1", "approval.reject", f"approval:REQ-2026-000{n}",
                                       detail)
        await connection.execute(update(AuditHeadRow).values(appended=4))
    await db.dispose()

    env = {"DATABASE_URL": database_url}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    migrated = run_cli("audit", "verify", env=env)
    assert migrated.returncode == 0 and "intact: 4 entries" in migrated.stdout, migrated.stderr

    db = Database(database_url)
    async with db.engine.begin() as connection:
        await connection.execute(delete(AuditRow).where(AuditRow.id == 4))
    await db.dispose()
    truncated = run_cli("audit", "verify", env=env)
    assert truncated.returncode == 1 and "3 entries but 4 were recorded" in truncated.stderr
