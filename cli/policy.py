"""`policy-bot policy`: publish and list policy versions."""

from __future__ import annotations

import asyncio
import getpass
import hashlib
from pathlib import Path

import typer

from cli.common import audit_trail, fail, open_database, settings_or_exit


app = typer.Typer(no_args_is_help=True, help="Publish and list policy versions.")


@app.command("publish")
def policy_publish(
    path: Path = typer.Argument(..., help="Word (.docx), PDF, HTML, Markdown or plain text policy"),
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
        async with open_database(settings, migrate=settings.is_sqlite) as db:
            repository = PolicyRepository(db, audit_trail(db, settings))
            current = await repository.current()
            same_text = current and current.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
            if same_text and current.label != version and not force:
                fail(f"{path.name} has the same text as the current version {current.label}; publishing it as {version} "
                     "would ask everyone to acknowledge it again. Use --force to publish it anyway")
            try:
                published = await repository.publish(
                    label=version, text=text, source_name=path.name, published_by=by or getpass.getuser()
                )
            except DuplicateVersion as exc:
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

    asyncio.run(run())


@app.command("list")
def policy_list() -> None:
    """List published versions, newest last."""
    settings = settings_or_exit()
    from storage.policies import PolicyRepository

    async def run() -> None:
        async with open_database(settings, migrate=settings.is_sqlite) as db:
            versions = await PolicyRepository(db, audit_trail(db, settings)).all()
        if not versions:
            typer.echo("no policy published yet")
        for v in versions:
            typer.echo(f"{v.label}\t{v.published_at:%Y-%m-%d %H:%M}\t{v.published_by}\t{v.sha256[:12]}\t{v.source_name}")

    asyncio.run(run())
