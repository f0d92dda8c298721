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
    remind: bool = typer.Option(True, "--remind/--no-remind",
                                help="Queue a 1:1 request to acknowledge the new version for everyone the bot knows"),
) -> None:
    """Publish a policy file as the new current version, and ask everyone to acknowledge it."""
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
            await db.dispose()
            fail(str(exc))
        typer.echo(f"published version {published.label} ({len(numbered)} sections, sha256 {published.sha256[:12]}…)")
        if remind:
            from bot.connector import BotConnector
            from bot.credentials import TokenProvider
            from bot.reminders import queue_round
            from bot.services import Services

            # Only queued here: the running service's delivery workers send them at Teams' pace.
            services = Services.build(settings, BotConnector(TokenProvider(None)), db=db)
            plan = await queue_round(services, f"published-{published.label}")
            typer.echo(f"asked {plan.queued} people to acknowledge it (sent by the running service; "
                       f"{plan.unreachable} without a 1:1 chat with the bot)")
        await db.dispose()

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
    from domain.chatter import is_chatter

    if is_chatter(question):
        typer.echo("Hello! Ask a question about the GenAI policy in your own words (policy-bot --help for the rest).")
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
    import bot.cli_operations  # noqa: F401  (registers the operations commands on `app`)

    app()


if __name__ == "__main__":
    main()
