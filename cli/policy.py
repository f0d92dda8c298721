"""`policy-bot policy`: publish and list policy versions."""

from __future__ import annotations

import asyncio
import getpass
import hashlib
from pathlib import Path
from typing import Optional

import typer

from cli.common import audit_trail, fail, open_database, policy_repositories, settings_or_exit


app = typer.Typer(no_args_is_help=True, help="Publish and list policy versions.")


@app.command("publish")
def policy_publish(
    path: Path = typer.Argument(..., help="Word (.docx), PDF, HTML, Markdown or plain text policy"),
    version: str = typer.Option(..., "--version", help="Version label, e.g. 2.1 or 2026-11"),
    by: str = typer.Option(None, "--by", help="Who is publishing (defaults to your login name)"),
    remind: bool = typer.Option(True, "--remind/--no-remind",
                                help="Queue a 1:1 request to acknowledge the new version for everyone the bot knows"),
    check: Optional[Path] = typer.Option(None, "--check", help="Run this question bank (as `qa test` reads it) against "
                                         "the new version first, and refuse to publish if it scores lower"),
    min_top3: Optional[float] = typer.Option(None, "--min-top3", help="With --check: the top-3 share the new version "
                                             "needs, e.g. 0.8 (default: no lower than the current version's)"),
    force: bool = typer.Option(False, "--force", help="Publish even if the text is the same as the current version's, "
                                                      "or the question bank scores below the threshold"),
) -> None:
    """Publish a policy file as the new current version, and ask everyone to acknowledge it.

    Pairings taught for the current version are carried over where their passage is unchanged, and held
    for review (`policy-bot qa list --held`) where it changed or went."""
    settings = settings_or_exit()
    label = version.strip()
    if not label:
        fail("--version: give the new version a label, such as 2.1 or 2026-11")
    text, document = _read_policy(path, settings)
    bank = None
    if check is not None:
        from cli.qa_bank import load_bank, parse_share

        bank, min_top3 = load_bank(check), parse_share(min_top3)
    asyncio.run(_publish(settings, path, text, document, label, by=by or getpass.getuser(), remind=remind,
                         force=force, bank=bank, min_top3=min_top3))


def _read_policy(path: Path, settings):
    """The file's text and its parsed sections, or a refusal if it is not a policy with numbered sections."""
    from bot.library import placeholders
    from domain.policy_parse import parse_policy
    from domain.policy_text import PolicyFileError, policy_source_text

    try:
        text = policy_source_text(path)
    except PolicyFileError as exc:
        fail(str(exc))
    document = parse_policy(text, placeholders(settings))
    if not any(s.number for s in document.sections):
        fail(f"{path.name}: found no numbered sections; is this the policy document?")
    return text, document


async def _publish(settings, path: Path, text: str, document, label: str, *, by: str, remind: bool, force: bool,
                   bank, min_top3: float | None) -> None:
    from storage.policies import DuplicateVersion

    async with open_database(settings, migrate=settings.is_sqlite) as db:
        policies, pairings = policy_repositories(db, settings)
        current = await policies.current()
        same_text = current and current.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
        if same_text and current.label != label and not force:
            fail(f"{path.name} has the same text as the current version {current.label}; publishing it as {label} "
                 "would ask everyone to acknowledge it again. Use --force to publish it anyway")
        if bank is not None:
            await _check_bank(settings, db, pairings, document, label, bank, min_top3, force)
        try:
            published = await policies.publish(label=label, text=text, source_name=path.name, published_by=by)
        except DuplicateVersion as exc:
            fail(str(exc))
        sections = sum(1 for s in document.sections if s.number)
        typer.echo(f"published version {published.label} ({sections} sections, sha256 {published.sha256[:12]}…)")
        await _say_carried_over(pairings, published.id)
        if remind:
            await _queue_reminders(settings, db, published.label)


async def _check_bank(settings, db, pairings, document, label: str, bank, min_top3: float | None, force: bool) -> None:
    """Score the bank on the new version (with the pairings publishing would carry over) and on the current one;
    refuse, unless forced, when the new one's top-3 is below `min_top3`, or else below the current version's."""
    from cli.common import policy_library
    from cli.qa_bank import print_score, score_bank
    from domain.pairings import carry_over
    from domain.policy_search import PolicyIndex

    current = await policy_library(db, settings).current()
    kept = carry_over(current.index.pairings, document).carried if current.version else []
    new_score = score_bank(PolicyIndex(document, pairings=[p for p, _ in kept]), bank, f"new version {label}")
    print_score(new_score, f"the new version {label}")
    threshold, against = min_top3, "the minimum asked for"
    if threshold is None and current.version is not None:
        threshold = score_bank(current.index, bank, f"version {current.version.label}").top3
        against = f"the current version {current.version.label}'s {threshold:.0%}"
    if threshold is None or new_score.top3 >= threshold:
        return
    if not force:
        fail(f"not published: the question bank's top-3 is {new_score.top3:.0%} on version {label}, below {against}. "
             "Teach the misses (`policy-bot qa test --misses`), or use --force to publish anyway", code=1)
    typer.echo(f"publishing anyway (--force): top-3 is {new_score.top3:.0%}, below {against}")


async def _say_carried_over(pairings, version_id: int) -> None:
    carried, held = await pairings.list(version_id), await pairings.list(version_id, held=True)
    if carried or held:
        typer.echo(f"carried {len(carried)} taught pairing(s) over; {len(held)} held for review because their passage "
                   "changed or went (see `policy-bot qa list --held`)")


async def _queue_reminders(settings, db, label: str) -> None:
    from bot.outbound.connector import BotConnector
    from bot.microsoft.credentials import TokenProvider
    from dialogs.reminders import queue_round
    from bot.service_urls import ServiceUrls
    from bot.services import Services

    # Only queued here: the running service's delivery workers send them at Teams' pace.
    services = Services.build(settings, BotConnector(TokenProvider(None), ServiceUrls.for_settings(settings)), db=db)
    plan = await queue_round(services, f"published-{label}")
    typer.echo(f"asked {plan.queued} people to acknowledge it (sent by the running service; "
               f"{plan.unreachable} without a 1:1 chat with the bot)")


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
