"""The aiohttp application: /api/messages, /healthz and /readyz, and what runs beside them (the outbox's
delivery worker, a turn's replies sent after Teams has its 200, the hourly schedule)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
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
from bot.microsoft.http import JsonClient
from bot.outbound.replies import ReplySender
from bot.service_urls import ServiceUrls
from bot.services import Services
from bot.router import Router
from bot.settings import Settings

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
REPLIES = web.AppKey("replies", ReplySender)
WORKER = web.AppKey("worker", DeliveryWorker)


@dataclass(frozen=True)
class Clients:
    """Everything that talks to Microsoft, on one HTTP client (one connection pool); closed, in this order,
    when the app stops."""

    tokens: TokenProvider
    service_urls: ServiceUrls
    http: JsonClient
    connector: BotConnector  # a turn's replies and team rosters, with retries
    delivery: BotConnector   # the outbox's sends: one attempt each, the outbox itself schedules the retries
    graph: GraphClient | None  # breach emails and the approver group, sharing one Graph token cache

    @classmethod
    def open(cls, settings: Settings) -> "Clients":
        tokens = TokenProvider(build_credential(settings))
        service_urls = ServiceUrls.for_settings(settings)
        http = JsonClient()
        uses_graph = settings.governance_mailbox or settings.approver_group_id
        return cls(tokens, service_urls, http,
                   BotConnector(tokens, service_urls, http=http, timeout=settings.connector_timeout),
                   BotConnector(tokens, service_urls, http=http, attempts=1, timeout=settings.connector_timeout),
                   GraphClient(settings, http) if uses_graph else None)

    async def close(self) -> None:
        await self.delivery.close()
        if self.graph is not None:
            await self.graph.close()
        await self.connector.close()
        await self.tokens.close()
        await self.http.close()


def create_app(settings: Settings, router: Router, schedule: Sequence[Job] = ()) -> web.Application:
    """Build the app around a route table (cli.wiring passes dialogs.routes'); nothing opens at import."""
    from bot.telemetry import start_telemetry

    telemetry = start_telemetry(settings)  # None when switched off; before the Application, which it instruments
    app = web.Application(client_max_size=settings.max_body_bytes + 1024)
    clients = Clients.open(settings)
    services = Services.build(settings, clients.connector, commands=frozenset(router.commands()), graph=clients.graph)
    mailer = GraphMailer(clients.graph, settings.mail_sender) if settings.governance_mailbox else None
    worker = DeliveryWorker(
        services.outbox, DeliveryOutbound(clients.delivery, mailer), doorbell=services.doorbell,
        per_tenant_per_second=settings.rate_per_tenant, per_conversation_per_second=settings.rate_per_conversation,
    )
    replies = ReplySender(clients.connector, services.outbox, services.deliver_soon)
    if telemetry is not None:
        telemetry.instrument(app, router, services)
    app[SERVICES], app[REPLIES], app[WORKER] = services, replies, worker
    app[ADAPTER] = TeamsAdapter(settings, Pipeline(services, router, replies).on_incoming, clients.service_urls)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    _run_beside(app, worker, schedule if settings.reminders_weekly else ())
    app.on_cleanup.append(partial(_close, clients, worker))
    return app


def _run_beside(app: web.Application, worker: DeliveryWorker, schedule: Sequence[Job]) -> None:
    """The delivery worker, and the scheduled jobs (if any), run while the app does."""
    async def start(_app: web.Application) -> None:
        worker.start()
        if schedule:
            app[SCHEDULE] = asyncio.create_task(run_hourly(app[SERVICES], schedule), name="weekly-reminders")

    app.on_startup.append(start)


async def _close(clients: Clients, worker: DeliveryWorker, app: web.Application) -> None:
    """Stop in order: the schedule, the replies in flight, the worker's batch, the clients, then the database."""
    if SCHEDULE in app:
        app[SCHEDULE].cancel()
    await app[REPLIES].stop()
    await worker.stop()
    await clients.close()
    await app[SERVICES].approvers.close()
    await app[SERVICES].db.dispose()


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
