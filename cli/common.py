"""What every command shares: refusing in one plain line, settings, and the database."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, AsyncIterator

import typer

from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from storage.db import Database


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"policy-bot: {message}", err=True)
    raise typer.Exit(code)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        fail(str(exc))
    from bot.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    return settings


@asynccontextmanager
async def open_database(settings: Settings, *, migrate: bool, check_audit_key: bool = True) -> AsyncIterator[Database]:
    """The database, migrated if asked and at the code's schema, disposed of when the block ends however it ends
    (a refusal with `fail()` included). Unless told otherwise, refuse when this process's AUDIT_KEY would break
    the audit chain (missing, or not the one the trail is signed with)."""
    from bot.database import open_database as connect

    db = connect(settings)
    try:
        if migrate:
            await db.upgrade()
        problem = await db.schema_problem()
        if problem is None and check_audit_key:
            problem = await audit_trail(db, settings).key_problem()
            problem = f"Setting AUDIT_KEY: {problem}" if problem else None
        if problem:
            fail(problem)
        yield db
    finally:
        await db.dispose()


def utc_iso(at: datetime) -> str:
    """A time with its zone, e.g. 2026-11-25T21:27:03+00:00 (SQLite hands times back without one; they are UTC)."""
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")


def audit_trail(db, settings: Settings):
    from storage.audit import AuditTrail

    return AuditTrail(db, key=settings.audit_key_bytes)


def policy_repositories(db, settings: Settings):
    """The policy versions and their taught pairings, as the bot builds them, so a publish carries pairings over."""
    from bot.library import placeholders
    from storage.pairings import PairingRepository
    from storage.policies import PolicyRepository

    audit = audit_trail(db, settings)
    pairings = PairingRepository(db, audit, placeholders(settings))
    return PolicyRepository(db, audit, pairings), pairings


def policy_library(db, settings: Settings):
    """The current policy, indexed with its pairings, and the tool register, as the bot answers from them."""
    from bot.library import PolicyLibrary
    from storage.tools import ToolRepository

    policies, pairings = policy_repositories(db, settings)
    return PolicyLibrary(settings, policies, ToolRepository(db, audit_trail(db, settings)), pairings)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """Text people typed, written to CSV so a spreadsheet shows it rather than running it as a formula
    (a leading ' as OWASP advises; `qa import` takes it off again)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def from_spreadsheet_cell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_START) else value
