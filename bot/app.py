"""The aiohttp application: /api/messages, /healthz and /readyz."""

from __future__ import annotations

import structlog
from aiohttp import web

from bot.adapter import TeamsAdapter
from bot.bot import PolicyBot
from bot.connector import BotConnector
from bot.delivery import DeliveryWorker
from bot.credentials import TokenProvider, build_credential
from bot.routes import build_router
from bot.services import Services
from bot.settings import Settings
from bot.turn import Outbound

log = structlog.get_logger(__name__)

SERVICES = web.AppKey("services", Services)
ADAPTER = web.AppKey("adapter", TeamsAdapter)


def create_app(settings: Settings, *, outbound: Outbound | None = None) -> web.Application:
    """Build the app; connections open on startup and close on cleanup, nothing at import."""
    app = web.Application(client_max_size=settings.max_body_bytes + 1024)
    tokens = TokenProvider(build_credential(settings))
    connector = BotConnector(tokens, timeout=settings.connector_timeout)
    services = Services.build(settings, outbound or connector)
    # Proactive messages go one attempt at a time; the outbox itself schedules the retries.
    delivery_connector = BotConnector(tokens, attempts=1, timeout=settings.connector_timeout)
    services.delivery = DeliveryWorker(services.outbox, outbound or delivery_connector)
    bot = PolicyBot(services, build_router())
    app[SERVICES] = services
    app[ADAPTER] = TeamsAdapter(settings, bot.on_incoming)

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

    async def close(_app: web.Application) -> None:
        await services.delivery.stop()
        await delivery_connector.close()
        await connector.close()
        await tokens.close()
        await services.db.dispose()

    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.on_startup.append(start)
    app.on_cleanup.append(close)
    return app
