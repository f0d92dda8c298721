"""`policy-bot`: serve, chat, ask, and look after the database, policy, register and Teams app."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from pathlib import Path
from typing import Optional

import typer

from bot.settings import Settings, SettingsError, load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="GenAI policy assistant for Microsoft Teams.")
db_app = typer.Typer(no_args_is_help=True, help="Database migrations.")
policy_app = typer.Typer(no_args_is_help=True, help="Publish and list policy versions.")
tools_app = typer.Typer(no_args_is_help=True, help="The approved-tools register.")
app.add_typer(db_app, name="db")
app.add_typer(policy_app, name="policy")
app.add_typer(tools_app, name="tools")


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


async def _prepared_database(settings: Settings, *, migrate: bool):
    from storage.db import Database

    db = Database(settings.database_url)
    if migrate:
        await db.upgrade()
    problem = await db.schema_problem()
    if problem:
        await db.dispose()
        fail(problem)
    return db


@app.command()
def serve(local: bool = typer.Option(False, "--local", help="No Teams credentials: loopback only, authentication off.")) -> None:
    """Run the bot's HTTP service."""
    settings = settings_or_exit()
    if local and settings.has_credentials:
        fail("--local is for running without credentials, but MicrosoftAppId is set; drop --local or unset it")
    if not local and not settings.has_credentials:
        fail("Setting MicrosoftAppId: not set. Set the bot's credentials, or run `policy-bot serve --local` to try it on this machine")
    if local and not settings.host_is_loopback():
        fail(f"Setting HOST: local mode has no authentication, so it only listens on loopback, not {settings.host}")
    from bot.server import run_server

    run_server(settings, local=local)


@app.command()
def chat() -> None:
    """Talk to the bot in this terminal: the same logic as in Teams, cards shown as text."""
    settings = settings_or_exit(log_level="WARNING")
    from bot.chat import run_chat

    asyncio.run(run_chat(settings))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (run once per release, before starting the bot)."""
    settings = settings_or_exit()

    async def run() -> None:
        db = await _prepared_database(settings, migrate=True)
        revision = await db.current_revision()
        await db.dispose()
        typer.echo(f"database is at revision {revision}")

    asyncio.run(run())


@policy_app.command("publish")
def policy_publish(
    path: Path = typer.Argument(..., help="Markdown, plain text or Word (.docx) policy"),
    version: str = typer.Option(..., "--version", help="Version label, e.g. 2.1 or 2026-11"),
    by: str = typer.Option(None, "--by", help="Who is publishing (defaults to your login name)"),
) -> None:
    """Publish a policy file as the new current version."""
    settings = settings_or_exit()
    from bot.library import placeholders
    from domain.policy_parse import parse_policy
    from domain.policy_text import PolicyFileError, policy_source_text
    from storage.audit import AuditTrail
    from storage.policies import DuplicateVersion, PolicyRepository

    try:
        text = policy_source_text(path)
    except PolicyFileError as exc:
        fail(str(exc))
    document = parse_policy(text, placeholders(settings))
    numbered = [s for s in document.sections if s.number]
    if not numbered:
        fail(f"{path.name}: found no numbered sections; is this the policy document?")

    async def run() -> None:
        db = await _prepared_database(settings, migrate=settings.is_sqlite)
        try:
            published = await PolicyRepository(db, AuditTrail(db)).publish(
                label=version, text=text, source_name=path.name, published_by=by or getpass.getuser()
            )
        except DuplicateVersion as exc:
            fail(str(exc))
        finally:
            await db.dispose()
        typer.echo(f"published version {published.label} ({len(numbered)} sections, sha256 {published.sha256[:12]}…)")

    asyncio.run(run())


@policy_app.command("list")
def policy_list() -> None:
    """List published versions, newest last."""
    settings = settings_or_exit()
    from storage.audit import AuditTrail
    from storage.policies import PolicyRepository

    async def run() -> None:
        db = await _prepared_database(settings, migrate=settings.is_sqlite)
        versions = await PolicyRepository(db, AuditTrail(db)).all()
        await db.dispose()
        if not versions:
            typer.echo("no policy published yet")
        for v in versions:
            typer.echo(f"{v.label}\t{v.published_at:%Y-%m-%d %H:%M}\t{v.published_by}\t{v.sha256[:12]}\t{v.source_name}")

    asyncio.run(run())


@app.command()
def ask(
    question: Optional[str] = typer.Argument(None, help="The question (omit with --batch)"),
    policy: Optional[Path] = typer.Option(None, "--policy", help="Answer from this file, without the database"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only"),
    batch: bool = typer.Option(False, "--batch", help="One question per line on stdin, one JSON line out per question"),
) -> None:
    """Answer policy questions from the command line."""
    settings = settings_or_exit(log_level="WARNING")
    from bot.library import load_policy_file
    from domain.policy_text import PolicyFileError

    async def load():
        if policy is not None:
            return load_policy_file(policy, settings)
        from bot.library import PolicyLibrary
        from storage.audit import AuditTrail
        from storage.policies import PolicyRepository
        from storage.tools import ToolRepository

        db = await _prepared_database(settings, migrate=settings.is_sqlite)
        audit = AuditTrail(db)
        library = PolicyLibrary(settings, PolicyRepository(db, audit), ToolRepository(db, audit))
        loaded = await library.current()
        await db.dispose()
        return loaded

    try:
        loaded = asyncio.run(load())
    except PolicyFileError as exc:
        fail(str(exc))

    def answer(text: str) -> dict:
        result = loaded.index.search(text)
        return {
            "answered": result.answered,
            "results": [{"section": h.section, "title": h.title, "text": h.text, "score": h.score} for h in result.hits]
            if result.answered else [],
        }

    if batch:
        for line in sys.stdin:
            print(json.dumps(answer(line.strip())), flush=True)
        return
    if not question:
        fail("give a question, or use --batch to read questions from stdin")
    payload = answer(question)
    if as_json:
        print(json.dumps(payload))
        return
    if not payload["answered"]:
        typer.echo(f"The policy doesn't cover that. Contact {settings.genai_authority_name} at {settings.genai_authority_contact}.")
    for position, hit in enumerate(payload["results"], start=1):
        typer.echo(f"[{position}] {hit['section']} {hit['title']}\n    {hit['text']}\n")


@tools_app.command("import")
def tools_import(file: Path = typer.Argument(..., help="CSV or YAML register")) -> None:
    """Add or update register entries from a file."""
    settings = settings_or_exit()
    from domain.tools import RegisterFileError, read_register
    from storage.audit import AuditTrail
    from storage.tools import ToolRepository

    try:
        tools = read_register(file)
    except RegisterFileError as exc:
        fail(str(exc))

    async def run() -> None:
        db = await _prepared_database(settings, migrate=settings.is_sqlite)
        added, updated = await ToolRepository(db, AuditTrail(db)).upsert(tools, actor=f"cli:{getpass.getuser()}")
        await db.dispose()
        typer.echo(f"register: {added} added, {updated} updated")

    asyncio.run(run())


@tools_app.command("list")
def tools_list() -> None:
    """Show the register."""
    settings = settings_or_exit()
    from storage.audit import AuditTrail
    from storage.tools import ToolRepository

    async def run() -> None:
        db = await _prepared_database(settings, migrate=settings.is_sqlite)
        tools = await ToolRepository(db, AuditTrail(db)).all()
        await db.dispose()
        if not tools:
            typer.echo("the register is empty")
        for t in tools:
            review = t.review_due.isoformat() if t.review_due else "-"
            typer.echo(f"{t.name}\t{t.status}\t{t.category}\treview {review}\t{t.conditions or ''}")

    asyncio.run(run())


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
        db = await _prepared_database(settings, migrate=False)
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

    from bot.connector import BotConnector
    from bot.credentials import TokenProvider, build_credential
    from bot.delivery import DeliveryWorker
    from bot.reminders import queue_round, round_label
    from bot.services import Services

    async def run() -> None:
        db = await _prepared_database(settings, migrate=settings.is_sqlite)
        tokens = TokenProvider(build_credential(settings))
        connector = BotConnector(tokens, attempts=1, timeout=settings.connector_timeout)
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


report_app = typer.Typer(no_args_is_help=True, help="Reports for the governance team and auditors.")
app.add_typer(report_app, name="report")


@report_app.command("acknowledgements")
def report_acknowledgements(csv_path: Optional[Path] = typer.Option(None, "--csv", help="Write one row per known person")) -> None:
    """Who has acknowledged the current policy version (and when), for audits."""
    settings = settings_or_exit()
    import csv

    from storage.acknowledgements import AcknowledgementRepository
    from storage.audit import AuditTrail
    from storage.policies import PolicyRepository

    async def run():
        db = await _prepared_database(settings, migrate=settings.is_sqlite)
        audit = AuditTrail(db)
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
                                 r.acknowledged_at.isoformat() if r.acknowledged_at else "",
                                 "true" if r.current_acknowledged else "false"])
        typer.echo(f"wrote {len(rows)} rows to {csv_path}", err=True)
    typer.echo(f"current version {label}: {done} of {len(rows)} known people acknowledged")


audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit trail.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain; name the first entry that does not check out."""
    settings = settings_or_exit()
    from storage.audit import AuditTrail

    async def run() -> int:
        db = await _prepared_database(settings, migrate=False)
        audit = AuditTrail(db)
        broken = await audit.verify()
        count = len(await audit.entries())
        await db.dispose()
        if broken is None:
            typer.echo(f"audit trail intact: {count} entries")
            return 0
        typer.echo(f"audit trail BROKEN at entry {broken.id} ({broken.at:%Y-%m-%d %H:%M:%S} {broken.action} by {broken.actor}): "
                   "its content or its link to the entry before it has been changed", err=True)
        return 1

    raise typer.Exit(asyncio.run(run()))


@app.command()
def purge(dry_run: bool = typer.Option(False, "--dry-run", help="Count what is due without deleting")) -> None:
    """Delete records past their retention period (RETENTION_QUESTIONS_DAYS), recording that it was done."""
    settings = settings_or_exit()
    from storage.audit import AuditTrail
    from storage.privacy import Records

    async def run() -> dict:
        db = await _prepared_database(settings, migrate=False)
        counts = await Records(db, AuditTrail(db)).purge(
            questions_days=settings.retention_questions_days, actor=f"cli:{getpass.getuser()}", dry_run=dry_run
        )
        await db.dispose()
        return counts

    counts = asyncio.run(run())
    verb = "due for deletion" if dry_run else "deleted"
    typer.echo(f"questions older than {settings.retention_questions_days} days {verb}: {counts['questions']}")


@app.command("export-user")
def export_user(
    user_id: str = typer.Argument(..., help="The person's Entra object id"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file instead of stdout"),
) -> None:
    """Write every record about one person as JSON (UK GDPR subject access)."""
    settings = settings_or_exit()
    from storage.audit import AuditTrail
    from storage.privacy import Records

    async def run() -> dict:
        db = await _prepared_database(settings, migrate=False)
        data = await Records(db, AuditTrail(db)).export_user(user_id)
        await db.dispose()
        return data

    text = json.dumps(asyncio.run(run()), indent=2, default=str, ensure_ascii=False)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
    else:
        print(text)


@app.command()
def manifest(
    app_id: str = typer.Option(..., "--app-id", help="The bot's Microsoft App ID (a GUID)"),
    out: Path = typer.Option(Path("app.zip"), "--out", help="Where to write the Teams app package"),
    version: str = typer.Option("1.0.0", "--version", help="App version (x.y.z)"),
) -> None:
    """Build the Teams app package (manifest.json with both icons) for upload to Teams."""
    from manifest.package import ManifestError, build_package

    settings = settings_or_exit(log_level="WARNING")
    try:
        build_package(app_id=app_id, out=out, version=version, org_name=settings.org_name)
    except ManifestError as exc:
        fail(str(exc))
    typer.echo(f"wrote {out}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
