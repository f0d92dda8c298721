"""The aiohttp application: /api/messages, /healthz and /readyz."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Sequence

import structlog
from aiohttp import web

from bot.adapter import TeamsAdapter
from bot.pipeline import Pipeline
from bot.outbound.connector import BotConnector
from bot.outbound.worker import DeliveryWorker
from bot.microsoft.graph import GraphClient
from bot.outbound.destinations import DeliveryOutbound, GraphMailer
from bot.microsoft.credentials import TokenProvider, build_credential
from bot.outbound.replies import ReplySender
from bot.service_urls import ServiceUrls
from bot.services import Services
from bot.router import Router
from bot.settings import Settings
from bot.turn import Outbound

log = structlog.get_logger(__name__)

SERVICES = web.AppKey("services", Services)
SCHEDULE = web.AppKey("schedule", asyncio.Task)
Job = Callable[[Services], Awaitable[None]]


async def run_hourly(services: Services, jobs: Sequence[Job]) -> None:
    """Run the scheduled jobs once an hour; each is keyed so that repeats (and other instances) are harmless."""
    while True:
        for job in jobs:
            try:
                await job(services)
            except Exception:
                log.exception("could not queue this week's reminders; will try again in an hour")
        await asyncio.sleep(3600)
ADAPTER = web.AppKey("adapter", TeamsAdapter)


def create_app(settings: Settings, router: Router, schedule: Sequence[Job] = (), *,
               outbound: Outbound | None = None) -> web.Application:
    """Build the app around a route table (cli.wiring passes dialogs.routes'); nothing opens at import."""
    from bot.telemetry import start_telemetry

    telemetry = start_telemetry(settings)  # None when switched off; before the Application, which it instruments
    app = web.Application(client_max_size=settings.max_body_bytes + 1024)
    tokens = TokenProvider(build_credential(settings))
    service_urls = ServiceUrls.for_settings(settings)
    connector = BotConnector(tokens, service_urls, timeout=settings.connector_timeout)
    services = Services.build(settings, outbound or connector)
    # Proactive messages go one attempt at a time; the outbox itself schedules the retries.
    delivery_connector = BotConnector(tokens, service_urls, attempts=1, timeout=settings.connector_timeout)
    graph = GraphClient(settings) if settings.governance_mailbox else None
    mailer = GraphMailer(graph, settings.mail_sender) if graph else None
    services.delivery = DeliveryWorker(
        services.outbox, DeliveryOutbound(outbound or delivery_connector, mailer),
        per_tenant_per_second=settings.rate_per_tenant, per_conversation_per_second=settings.rate_per_conversation,
    )
    services.replies = ReplySender(services.outbound, services.outbox, services.deliver_soon)
    if telemetry is not None:
        telemetry.instrument(app, router, services)
    bot = Pipeline(services, router)
    app[SERVICES] = services
    app[ADAPTER] = TeamsAdapter(settings, bot.on_incoming, service_urls)

    async def messages(request: web.Request) -> web.Response:
        return await request.app[ADAPTER].handle(request)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        services = request.app[SERVICES]
        problem = await services.db.schema_problem()
        if problem:
            return web.json_response({"status": "not ready", "reason": problem}, status=503)
        counts = await services.outbox.counts()
        return web.json_response(
            {"status": "ready", "outbox": {"pending": counts.get("pending", 0) + counts.get("sending", 0),
                                           "failed": counts.get("failed", 0)}}
        )

    async def start(_app: web.Application) -> None:
        services.delivery.start()
        if settings.reminders_weekly:
            app[SCHEDULE] = asyncio.create_task(run_hourly(services, schedule), name="weekly-reminders")

    async def close(_app: web.Application) -> None:
        if SCHEDULE in app:
            app[SCHEDULE].cancel()
        await services.replies.stop()
        await services.delivery.stop()
        await delivery_connector.close()
        if graph is not None:
            await graph.close()
        await connector.close()
        await tokens.close()
        await services.approvers.close()
        await services.db.dispose()

    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.on_startup.append(start)
    app.on_cleanup.append(close)
    return app
