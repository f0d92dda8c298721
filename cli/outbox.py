"""policy-bot commands for running the service day to day: outbox, reminders, reports, audit, retention."""

from __future__ import annotations

import asyncio
import getpass
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from cli.main import _prepared_database, app, audit_trail, fail, settings_or_exit


@app.command()
def outbox(
    action: str = typer.Argument("list", help="list, or retry"),
    entry: Optional[int] = typer.Argument(None, help="With retry: one entry's id (default: every failed entry)"),
    status: Optional[str] = typer.Option(None, "--status", help="With list: pending, sending, sent or failed"),
) -> None:
    """Proactive messages waiting, sent or failed; put failed ones back in the queue."""
    settings = settings_or_exit()
    from storage.outbox import Outbox

    if action not in ("list", "retry"):
        fail(f"outbox {action}: use 'list' or 'retry'")

    async def run() -> None:
        db = await _prepared_database(settings, migrate=False, check_audit_key=False)
        box = Outbox(db)
        if action == "retry":
            typer.echo(f"queued again: {await box.retry(entry)}")
        else:
            counts = await box.counts()
            typer.echo("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "the outbox is empty")
            for e in await box.entries(status):
                problem = f"\t{e.last_error}" if e.last_error else ""
                typer.echo(f"{e.id}\t{e.status}\t{e.attempts} attempts\t{e.key}{problem}")
        await db.dispose()

    asyncio.run(run())


@app.command()
def remind(
    round_name: Optional[str] = typer.Option(None, "--round", help="Round label (default: this ISO week, e.g. 2026-W47)"),
) -> None:
    """Remind, 1:1, everyone who has not acknowledged the current policy; at Teams' pace, once per round."""
    settings = settings_or_exit(log_level="WARNING")
    from datetime import date

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from bot.outbound.connector import BotConnector
    from bot.microsoft.credentials import TokenProvider, build_credential
    from bot.outbound.worker import DeliveryWorker
    from dialogs.reminders import queue_round, round_label
    from bot.service_urls import ServiceUrls
    from bot.services import Services

    async def run() -> None:
        db = await _prepared_database(settings, migrate=settings.is_sqlite)
        tokens = TokenProvider(build_credential(settings))
        connector = BotConnector(tokens, ServiceUrls.for_settings(settings), attempts=1, timeout=settings.connector_timeout)
        services = Services.build(settings, connector, db=db)
        services.delivery = DeliveryWorker(services.outbox, connector, per_tenant_per_second=settings.rate_per_tenant,
                                           per_conversation_per_second=settings.rate_per_conversation, idle_seconds=0.2)
        label = round_name or round_label(date.today())
        try:
            plan = await queue_round(services, label)
            if plan is None:
                fail("no policy has been published, so there is nothing to remind anyone about")
            total = sum((await services.outbox.counts_with_prefix(plan.key_prefix)).values())
            services.delivery.start()
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
                task = progress.add_task(f"round {label}", total=total or 1)
                while True:
                    counts = await services.outbox.counts_with_prefix(plan.key_prefix)
                    sent, failed = counts.get("sent", 0), counts.get("failed", 0)
                    progress.update(task, completed=sent + failed,
                                    description=f"round {label}: sent {sent}, failed {failed}")
                    if sent + failed >= total:
                        break
                    await asyncio.sleep(0.5)
            skipped = plan.already + plan.unreachable
            typer.echo(f"round {label}: sent {sent}, failed {failed}, skipped {skipped} "
                       f"(reminded earlier this round: {plan.already}; no 1:1 chat with the bot: {plan.unreachable})")
            if failed:
                typer.echo("failed reminders: see `policy-bot outbox list --status failed`; retry with `policy-bot outbox retry`")
        finally:
            await services.delivery.stop()
            await connector.close()
            await tokens.close()
            await db.dispose()

    asyncio.run(run())


def utc_iso(at: datetime) -> str:
    """A time with its zone, e.g. 2026-11-25T21:27:03+00:00 (SQLite hands times back without one; they are UTC)."""
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")


report_app = typer.Typer(no_args_is_help=True, help="Reports for the governance team and auditors.")
app.add_typer(report_app, name="report")


@report_app.command("acknowledgements")
def report_acknowledgements(csv_path: Optional[Path] = typer.Option(None, "--csv", help="Write one row per known person")) -> None:
    """Who has acknowledged the current policy version (and when), for audits."""
    settings = settings_or_exit()
    import csv

    from storage.acknowledgements import AcknowledgementRepository
    from storage.policies import PolicyRepository

    async def run():
        db = await _prepared_database(settings, migrate=settings.is_sqlite)
        audit = audit_trail(db, settings)
        current = await PolicyRepository(db, audit).current()
        rows = await AcknowledgementRepository(db, audit).report(current.id if current else None)
        await audit.append(f"cli:{getpass.getuser()}", "report.exported", "report:acknowledgements",
                           {"rows": len(rows), "file": str(csv_path) if csv_path else None})
        await db.dispose()
        return current, rows

    current, rows = asyncio.run(run())
    done = sum(r.current_acknowledged for r in rows)
    label = current.label if current else "none"
    if csv_path:
        with csv_path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["user_id", "name", "latest_version", "acknowledged_at", "current_acknowledged"])
            for r in rows:
                writer.writerow([r.user_id, r.name or "", r.latest_version or "",
                                 utc_iso(r.acknowledged_at) if r.acknowledged_at else "",
                                 "true" if r.current_acknowledged else "false"])
        typer.echo(f"wrote {len(rows)} rows to {csv_path}", err=True)
    typer.echo(f"current version {label}: {done} of {len(rows)} known people acknowledged")


audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit trail.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
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
        db = await _prepared_database(settings, migrate=False, check_audit_key=False)
        audit = audit_trail(db, settings)
        problem = await audit.verify(kept)
        head = await audit.head()
        await db.dispose()
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


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Record an anchor entry and print the trail's head (COUNT:HASH and the time), to keep outside the database,
    for example posted each week in the governance channel. `audit verify --anchor COUNT:HASH` checks against it."""
    settings = settings_or_exit()
    from datetime import datetime, timezone

    async def run():
        db = await _prepared_database(settings, migrate=False)
        audit = audit_trail(db, settings)
        await audit.append(f"cli:{getpass.getuser()}", "audit.anchored", "audit", {})
        head = await audit.head()
        await db.dispose()
        return head

    head = asyncio.run(run())
    at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    typer.echo(f"{head.count}:{head.hash}  at {at}")
    typer.echo("Keep this line somewhere the database's administrators can't change; check it later with "
               f"`policy-bot audit verify --anchor {head.count}:{head.hash}`.", err=True)


@app.command()
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
        db = await _prepared_database(settings, migrate=False)
        counts = await Records(db, audit_trail(db, settings)).purge(rules, actor=f"cli:{getpass.getuser()}",
                                                                     dry_run=dry_run)
        await db.dispose()
        return counts

    counts = asyncio.run(run())
    verb = "due for deletion" if dry_run else "deleted"
    for rule in rules:
        typer.echo(f"{rule.kind.replace('_', ' ')} older than {rule.days} days {verb}: {counts[rule.kind]}")
    if not dry_run:
        typer.echo(f"audit entries cleared of the purged records' free text: {counts['audit_text_cleared']}")


@app.command("export-user")
def export_user(
    user_id: str = typer.Argument(..., help="The person's Entra object id"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file instead of stdout"),
) -> None:
    """Write what the bot holds about one person as JSON (UK GDPR subject access): their own records in full, and
    from other people's records only what this person did to them."""
    settings = settings_or_exit()
    from storage.subject_access import SubjectAccess

    async def run() -> dict:
        db = await _prepared_database(settings, migrate=False, check_audit_key=False)
        data = await SubjectAccess(db, audit_trail(db, settings)).export(user_id)
        await db.dispose()
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
