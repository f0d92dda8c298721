"""`policy-bot audit`, `purge` and `export-user`: the audit trail and the records kept about people."""

from __future__ import annotations

import asyncio
import getpass
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from cli.common import audit_trail, fail, open_database, settings_or_exit


audit = typer.Typer(no_args_is_help=True, help="The tamper-evident audit trail.")


@audit.command("verify")
def audit_verify(
    anchor: Optional[str] = typer.Option(None, "--anchor", help="COUNT:HASH from an earlier `policy-bot audit anchor`, "
                                                                "kept outside the database"),
) -> None:
    """Check the hash chain, the head's count and hash, and (with AUDIT_KEY) every signature; name the first problem."""
    settings = settings_or_exit()
    from storage.audit_chain import Anchor

    try:
        kept = Anchor.parse(anchor) if anchor else None
    except ValueError as exc:
        fail(f"--anchor: {exc}")

    async def run() -> int:
        async with open_database(settings, migrate=False, check_audit_key=False) as db:
            audit = audit_trail(db, settings)
            problem = await audit.verify(kept)
            head = await audit.head()
        if problem is None:
            checked = " and the anchor" if kept else ""
            signed = ", signed with AUDIT_KEY" if settings.audit_key else ""
            typer.echo(f"audit trail intact: {head.count} entries{checked}{signed}")
            return 0
        entry = problem.entry
        where = (f" at entry {entry.id} ({entry.at:%Y-%m-%d %H:%M:%S} {entry.action} by {entry.actor})" if entry else "")
        typer.echo(f"audit trail BROKEN{where}: {problem.message}", err=True)
        return 1

    raise typer.Exit(asyncio.run(run()))


@audit.command("anchor")
def audit_anchor() -> None:
    """Record an anchor entry and print the trail's head (COUNT:HASH and the time), to keep outside the database,
    for example posted each week in the governance channel. `audit verify --anchor COUNT:HASH` checks against it."""
    settings = settings_or_exit()
    from datetime import datetime, timezone

    async def run():
        async with open_database(settings, migrate=False) as db:
            audit = audit_trail(db, settings)
            await audit.append(f"cli:{getpass.getuser()}", "audit.anchored", "audit", {})
            head = await audit.head()
        return head

    head = asyncio.run(run())
    at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    typer.echo(f"{head.count}:{head.hash}  at {at}")
    typer.echo("Keep this line somewhere the database's administrators can't change; check it later with "
               f"`policy-bot audit verify --anchor {head.count}:{head.hash}`.", err=True)


def purge(dry_run: bool = typer.Option(False, "--dry-run", help="Count what is due without deleting")) -> None:
    """Delete records past their retention periods (RETENTION_*_DAYS), recording that it was done."""
    settings = settings_or_exit()
    from storage.privacy import Records, RetentionRule

    rules = [
        RetentionRule("questions", settings.retention_questions_days),
        RetentionRule("incidents", settings.retention_incidents_days),
        RetentionRule("tool_requests", settings.retention_requests_days),
        RetentionRule("acknowledgements", settings.retention_acknowledgements_days),
        RetentionRule("sent_messages", settings.retention_sent_messages_days),
    ]

    async def run() -> dict:
        async with open_database(settings, migrate=False) as db:
            counts = await Records(db, audit_trail(db, settings)).purge(rules, actor=f"cli:{getpass.getuser()}",
                                                                         dry_run=dry_run)
        return counts

    counts = asyncio.run(run())
    verb = "due for deletion" if dry_run else "deleted"
    for rule in rules:
        typer.echo(f"{rule.kind.replace('_', ' ')} older than {rule.days} days {verb}: {counts[rule.kind]}")
    if not dry_run:
        typer.echo(f"audit entries cleared of the purged records' free text: {counts['audit_text_cleared']}")


def export_user(
    user_id: str = typer.Argument(..., help="The person's Entra object id"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file instead of stdout"),
) -> None:
    """Write what the bot holds about one person as JSON (UK GDPR subject access): their own records in full, and
    from other people's records only what this person did to them."""
    settings = settings_or_exit()
    from storage.subject_access import SubjectAccess

    async def run() -> dict:
        async with open_database(settings, migrate=False, check_audit_key=False) as db:
            data = await SubjectAccess(db, audit_trail(db, settings)).export(user_id)
        return data

    data = asyncio.run(run())
    if data["profile"] is None and not any(value for key, value in data.items() if isinstance(value, list)):
        fail(f"no records about '{user_id}': nothing written. Check it is the person's Entra object id "
             "(in Entra ID, Users, the person, Object ID)", code=1)
    text = json.dumps(data, indent=2, default=str, ensure_ascii=False)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
    else:
        print(text)
