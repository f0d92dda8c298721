"""`policy-bot outbox` and `policy-bot remind`: proactive messages and reminder rounds."""

from __future__ import annotations

import asyncio
from typing import Optional

import typer

from cli.common import fail, open_database, settings_or_exit



def outbox(
    action: str = typer.Argument("list", help="list, or retry"),
    entry: Optional[int] = typer.Argument(None, help="With retry: one entry's id (default: every failed entry)"),
    status: Optional[str] = typer.Option(None, "--status", help="With list: pending, sending, sent or failed"),
) -> None:
    """Proactive messages waiting, sent or failed; put failed ones back in the queue, and route again those
    that had nowhere to go (a channel registered or ids set since)."""
    settings = settings_or_exit()
    if action not in ("list", "retry"):
        fail(f"outbox {action}: use 'list' or 'retry'")

    async def run() -> None:
        async with open_database(settings, migrate=False, check_audit_key=False) as db:
            if action == "retry":
                await _retry(settings, db, entry)
            else:
                await _list(db, status)

    asyncio.run(run())


async def _list(db, status: str | None) -> None:
    from storage.outbox import Outbox

    box = Outbox(db)
    counts = await box.counts()
    typer.echo("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "the outbox is empty")
    for e in await box.entries(status):
        problem = f"\t{e.last_error}" if e.last_error else ""
        typer.echo(f"{e.id}\t{e.status}\t{e.attempts} attempts\t{e.key}{problem}")


async def _retry(settings, db, entry: int | None) -> None:
    """Failed messages that had an address go back in the queue; those that had none are routed again."""
    from bot.services import Services
    from dialogs.rerouting import reroute_waiting

    services = Services.build(settings, _NoSending(), db=db)
    try:
        rerouted = await reroute_waiting(services, entry_id=entry)
    finally:
        await services.approvers.close()
    typer.echo(f"queued again: {await services.outbox.retry(entry)}")
    moved = sum(rerouted.to_channel.values()) + rerouted.to_people
    if moved:
        typer.echo(f"routed again: {moved} that had nowhere to go "
                   f"({sum(rerouted.to_channel.values())} to channels, {rerouted.to_people} to people 1:1)")
    if rerouted.for_first_chat:
        typer.echo(f"waiting for someone's first chat with the bot: {rerouted.for_first_chat} "
                   "(they go when each person opens their chat)")
    for problem in sorted(set(rerouted.still)):
        typer.echo(f"still nowhere to go: {rerouted.still.count(problem)} ({problem})")


class _NoSending:
    """The CLI only queues; the running service's delivery workers send."""

    async def send(self, ref, activity, reply_to_id=None):
        raise RuntimeError("the command line does not send")

    async def update(self, ref, activity_id, activity):
        raise RuntimeError("the command line does not send")


def remind(
    round_name: Optional[str] = typer.Option(None, "--round", help="Round label (default: this ISO week, e.g. 2026-W47)"),
    debug: bool = typer.Option(False, "--debug", help="Log every attempt, with tracebacks, to stderr"),
) -> None:
    """Remind, 1:1, everyone who has not acknowledged the current policy; at Teams' pace, once per round."""
    # The summary and one line per failure say what happened; the delivery worker's own logs only with --debug.
    settings = settings_or_exit(log_level="DEBUG" if debug else "ERROR")
    import logging
    from datetime import date

    if not debug:
        logging.getLogger("bot.outbound").setLevel(logging.CRITICAL)

    from dialogs.reminders import round_label

    asyncio.run(_remind(settings, round_name or round_label(date.today())))


async def _remind(settings, label: str) -> None:
    from bot.outbound.connector import BotConnector
    from bot.microsoft.credentials import TokenProvider, build_credential
    from bot.outbound.worker import DeliveryWorker
    from bot.service_urls import ServiceUrls
    from bot.services import Services
    from dialogs.reminders import queue_round

    async with open_database(settings, migrate=settings.is_sqlite) as db:
        tokens = TokenProvider(build_credential(settings))
        connector = BotConnector(tokens, ServiceUrls.for_settings(settings), attempts=1, timeout=settings.connector_timeout)
        services = Services.build(settings, connector, db=db)
        delivery = DeliveryWorker(services.outbox, connector, per_tenant_per_second=settings.rate_per_tenant,
                                  per_conversation_per_second=settings.rate_per_conversation, idle_seconds=0.2,
                                  doorbell=services.doorbell)
        try:
            plan = await queue_round(services, label)
            if plan is None:
                fail("no policy has been published, so there is nothing to remind anyone about")
            delivery.start()
            counts = await _watch(services, plan.key_prefix, label)
            await _summary(services, plan, label, counts)
        finally:
            await delivery.stop()
            await connector.close()
            await tokens.close()


async def _watch(services, prefix: str, label: str) -> dict[str, int]:
    """A progress bar on stderr until every reminder of the round is sent or has failed for good."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    total = sum((await services.outbox.counts_with_prefix(prefix)).values())
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(f"round {label}", total=total or 1)
        while True:
            counts = await services.outbox.counts_with_prefix(prefix)
            sent, failed = counts.get("sent", 0), counts.get("failed", 0)
            progress.update(task, completed=sent + failed, description=f"round {label}: sent {sent}, failed {failed}")
            if sent + failed >= total:
                return counts
            await asyncio.sleep(0.5)


async def _summary(services, plan, label: str, counts: dict[str, int]) -> None:
    sent, failed = counts.get("sent", 0), counts.get("failed", 0)
    for entry in reversed(await services.outbox.entries("failed", limit=100_000, prefix=plan.key_prefix)):
        typer.echo(f"not reminded: {entry.key.removeprefix(plan.key_prefix)}: {entry.last_error or 'unknown error'}")
    skipped = plan.already + plan.unreachable
    typer.echo(f"round {label}: sent {sent}, failed {failed}, skipped {skipped} "
               f"(reminded earlier this round: {plan.already}; no 1:1 chat with the bot: {plan.unreachable})")
    if failed:
        typer.echo("failed reminders: see `policy-bot outbox list --status failed`; retry with `policy-bot outbox retry`")
