"""`policy-bot`: serve, chat, ask, and look after the database, policy, register and Teams app."""

from __future__ import annotations

import asyncio
import getpass
import hashlib
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


async def _prepared_database(settings: Settings, *, migrate: bool, check_audit_key: bool = True):
    """The database, migrated if asked and at the code's schema. Unless told otherwise, refuse when this process's
    AUDIT_KEY would break the audit chain (missing, or not the one the trail is signed with)."""
    from bot.database import open_database

    db = open_database(settings)
    if migrate:
        await db.upgrade()
    problem = await db.schema_problem()
    if problem is None and check_audit_key:
        problem = await audit_trail(db, settings).key_problem()
        problem = f"Setting AUDIT_KEY: {problem}" if problem else None
    if problem:
        await db.dispose()
        fail(problem)
    return db


def audit_trail(db, settings: Settings):
    from storage.audit import AuditTrail

    return AuditTrail(db, key=settings.audit_key_bytes)


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
    from cli.serve import run_server

    run_server(settings, local=local)


@app.command()
def chat() -> None:
    """Talk to the bot in this terminal: the same logic as in Teams, cards shown as text."""
    settings = settings_or_exit(log_level="WARNING")
    from cli.chat import run_chat

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
    force: bool = typer.Option(False, "--force", help="Publish even if the text is the same as the current version's"),
) -> None:
    """Publish a policy file as the new current version, and ask everyone to acknowledge it."""
    settings = settings_or_exit()
    version = version.strip()
    if not version:
        fail("--version: give the new version a label, such as 2.1 or 2026-11")
    from bot.library import placeholders
    from domain.policy_parse import parse_policy
    from domain.policy_text import PolicyFileError, policy_source_text
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
        repository = PolicyRepository(db, audit_trail(db, settings))
        current = await repository.current()
        same_text = current and current.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
        if same_text and current.label != version and not force:
            await db.dispose()
            fail(f"{path.name} has the same text as the current version {current.label}; publishing it as {version} "
                 "would ask everyone to acknowledge it again. Use --force to publish it anyway")
        try:
            published = await repository.publish(
                label=version, text=text, source_name=path.name, published_by=by or getpass.getuser()
            )
        except DuplicateVersion as exc:
            await db.dispose()
            fail(str(exc))
        typer.echo(f"published version {published.label} ({len(numbered)} sections, sha256 {published.sha256[:12]}…)")
        if remind:
            from bot.outbound.connector import BotConnector
            from bot.microsoft.credentials import TokenProvider
            from dialogs.reminders import queue_round
            from bot.service_urls import ServiceUrls
            from bot.services import Services

            # Only queued here: the running service's delivery workers send them at Teams' pace.
            services = Services.build(settings, BotConnector(TokenProvider(None), ServiceUrls.for_settings(settings)), db=db)
            plan = await queue_round(services, f"published-{published.label}")
            typer.echo(f"asked {plan.queued} people to acknowledge it (sent by the running service; "
                       f"{plan.unreachable} without a 1:1 chat with the bot)")
        await db.dispose()

    asyncio.run(run())


@policy_app.command("list")
def policy_list() -> None:
    """List published versions, newest last."""
    settings = settings_or_exit()
    from storage.policies import PolicyRepository

    async def run() -> None:
        db = await _prepared_database(settings, migrate=settings.is_sqlite)
        versions = await PolicyRepository(db, audit_trail(db, settings)).all()
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
            loaded = load_policy_file(policy, settings)
            if not any(s.number for s in loaded.document.sections):
                fail(f"{policy.name}: found no numbered sections to answer from; is this the policy document?")
            return loaded
        from bot.library import PolicyLibrary
        from storage.policies import PolicyRepository
        from storage.tools import ToolRepository

        db = await _prepared_database(settings, migrate=settings.is_sqlite)
        audit = audit_trail(db, settings)
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
    from storage.tools import ToolRepository

    try:
        tools = read_register(file)
    except RegisterFileError as exc:
        fail(str(exc))

    async def run() -> None:
        db = await _prepared_database(settings, migrate=settings.is_sqlite)
        added, updated = await ToolRepository(db, audit_trail(db, settings)).upsert(tools, actor=f"cli:{getpass.getuser()}")
        await db.dispose()
        typer.echo(f"register: {added} added, {updated} updated")

    asyncio.run(run())


@tools_app.command("list")
def tools_list() -> None:
    """Show the register."""
    settings = settings_or_exit()
    from storage.tools import ToolRepository

    async def run() -> None:
        db = await _prepared_database(settings, migrate=settings.is_sqlite)
        tools = await ToolRepository(db, audit_trail(db, settings)).all()
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
    out: Path = typer.Option(Path("app.zip"), "--out", help="Where to write the Teams app package (a directory: app.zip inside it)"),
    version: str = typer.Option("1.0.0", "--version", help="App version (x.y.z)"),
    developer_name: Optional[str] = typer.Option(None, "--developer-name", help="Publisher shown in Teams, at most 32 characters [default: ORG_NAME]"),
    website_url: Optional[str] = typer.Option(None, "--website-url", help="The council's page about the app [default: TEAMS_APP_WEBSITE_URL]"),
    privacy_url: Optional[str] = typer.Option(None, "--privacy-url", help="Its privacy notice [default: TEAMS_APP_PRIVACY_URL]"),
    terms_url: Optional[str] = typer.Option(None, "--terms-url", help="Its terms of use [default: TEAMS_APP_TERMS_URL]"),
    short_name: Optional[str] = typer.Option(None, "--short-name", help="At most 30 characters [default: TEAMS_APP_SHORT_NAME]"),
    full_name: Optional[str] = typer.Option(None, "--full-name", help="At most 100 characters [default: TEAMS_APP_FULL_NAME]"),
    short_description: Optional[str] = typer.Option(None, "--short-description", help="At most 80 characters [default: TEAMS_APP_SHORT_DESCRIPTION]"),
    full_description: Optional[str] = typer.Option(None, "--full-description", help="At most 4000 characters [default: TEAMS_APP_FULL_DESCRIPTION]"),
    accent_color: Optional[str] = typer.Option(None, "--accent-color", help="Background of the icon, e.g. #1F5C99 [default: TEAMS_APP_ACCENT_COLOR]"),
    teams_app_id: Optional[str] = typer.Option(None, "--teams-app-id", help="The Teams app's own id, if not the bot's (Agents Toolkit's TEAMS_APP_ID)"),
) -> None:
    """Build the Teams app package (manifest.json with both icons) for upload to Teams."""
    from manifest.package import AppDetails, ManifestError, build_package

    settings = settings_or_exit(log_level="WARNING")
    given = {"developer_name": developer_name, "website_url": website_url, "privacy_url": privacy_url,
             "terms_url": terms_url, "short_name": short_name, "full_name": full_name,
             "short_description": short_description, "full_description": full_description, "accent_color": accent_color}
    from_settings = {"developer_name": settings.org_name, "website_url": settings.teams_app_website_url,
                     "privacy_url": settings.teams_app_privacy_url, "terms_url": settings.teams_app_terms_url,
                     "short_name": settings.teams_app_short_name, "full_name": settings.teams_app_full_name,
                     "short_description": settings.teams_app_short_description,
                     "full_description": settings.teams_app_full_description, "accent_color": settings.teams_app_accent_color}
    details = AppDetails(**{name: value if value is not None else from_settings[name] for name, value in given.items()})
    try:
        written = build_package(app_id=app_id, out=out, version=version, details=details, teams_app_id=teams_app_id)
    except ManifestError as exc:
        fail(str(exc))
    typer.echo(f"wrote {written}")


def main() -> None:
    import cli.outbox  # noqa: F401  (registers the operations commands on `app`)
    import cli.doctor  # noqa: F401  (registers `doctor`)

    app()


if __name__ == "__main__":
    main()
