"""The audit chain as migrations 0001 to 0004 wrote it, for tests of databases made by older releases."""

from __future__ import annotations

import hashlib
import json
from datetime import timezone

from alembic import command
from sqlalchemy import JSON, DateTime, String, column, table

from storage.db import Database

# audit_log as migrations 0001 to 0004 left it
AUDIT_LOG_0004 = table("audit_log", column("at", DateTime(timezone=True)), column("actor", String), column("action", String),
                       column("subject", String), column("detail", JSON), column("prev_hash", String), column("hash", String))
GENESIS = "0" * 64


async def migrate_to_0004(db: Database) -> None:
    """A database as the releases before migration 0005 left it."""
    config = db._alembic_config()

    def to_0004(sync_connection) -> None:
        config.attributes["connection"] = sync_connection
        command.upgrade(config, "0004")

    async with db.engine.begin() as connection:
        await connection.run_sync(to_0004)


def legacy_hash(prev: str, at, actor: str, action: str, subject: str, detail: dict) -> str:
    """The chain's first format (migrations 0001 to 0004): anyone can recompute it."""
    at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    canonical = json.dumps([prev, at.astimezone(timezone.utc).isoformat(), actor, action, subject, detail],
                           sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def append_legacy(connection, prev: str, at, actor: str, action: str, subject: str, detail: dict) -> str:
    """Write one entry as releases before migration 0005 did (inside the caller's transaction); returns its hash."""
    digest = legacy_hash(prev, at, actor, action, subject, detail)
    await connection.execute(AUDIT_LOG_0004.insert().values(at=at, actor=actor, action=action, subject=subject,
                                                            detail=detail, prev_hash=prev, hash=digest))
    return digest
