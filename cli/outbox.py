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
    """Proactive messages waiting, sent or failed; put failed ones back in the queue."""
    settings = settings_or_exit()
    from storage.outbox import Outbox

    if action not in ("list", "retry"):
        fail(f"outbox {action}: use 'list' or 'retry'")

    async def run() -> None:
        async with open_database(settings, migrate=False, check_audit_key=False) as db:
            box = Outbox(db)
            if action == "retry":
                typer.echo(f"queued again: {await box.retry(entry)}")
            else:
                counts = await box.counts()
                typer.echo("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "the outbox is empty")
                for e in await box.entries(status):
                    problem = f"\t{e.last_error}" if e.last_error else ""
                    typer.echo(f"{e.id}\t{e.status}\t{e.attempts} attempts\t{e.key}{problem}")

    asyncio.run(run())


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
        async with open_database(settings, migrate=settings.is_sqlite) as db:
            tokens = TokenProvider(build_credential(settings))
            connector = BotConnector(tokens, ServiceUrls.for_settings(settings), attempts=1, timeout=settings.connector_timeout)
            services = Services.build(settings, connector, db=db)
            delivery = DeliveryWorker(services.outbox, connector, per_tenant_per_second=settings.rate_per_tenant,
                                      per_conversation_per_second=settings.rate_per_conversation, idle_seconds=0.2,
                                      doorbell=services.doorbell)
            label = round_name or round_label(date.today())
            try:
                plan = await queue_round(services, label)
                if plan is None:
                    fail("no policy has been published, so there is nothing to remind anyone about")
                total = sum((await services.outbox.counts_with_prefix(plan.key_prefix)).values())
                delivery.start()
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
                await delivery.stop()
                await connector.close()
                await tokens.close()

    asyncio.run(run())
