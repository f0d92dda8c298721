"""Where the route table meets the app: the only module that imports dialogs.routes.

bot/ knows no dialog; everything that runs the bot (the server, the terminal chat, the tests)
gets the app or the pipeline from here, with the table and the schedule plugged in.
"""

from __future__ import annotations

from functools import partial

from aiohttp import web

from bot import app as bot_app
from bot.outbound.worker import DeliveryWorker
from bot.pipeline import Pipeline
from bot.services import Services
from bot.settings import Settings
from dialogs.rerouting import reroute_at_start, reroute_entry
from bot.turn import Outbound
from dialogs.routes import SCHEDULE, build_router


def create_app(settings: Settings) -> web.Application:
    """The HTTP service: the aiohttp app with the route table and the weekly schedule; its delivery worker
    routes again what could not be routed, which it also does once at start-up."""
    app = bot_app.create_app(settings, build_router(), SCHEDULE)
    services = app[bot_app.SERVICES]
    app[bot_app.WORKER].reroute = partial(reroute_entry, services)

    async def catch_up(_app: web.Application) -> None:
        await reroute_at_start(services)

    app.on_startup.append(catch_up)
    return app


def services(settings: Settings, outbound: Outbound) -> Services:
    """The services for the terminal chat, knowing the route table's commands (its help card lists them). The chat
    is its own world: it sends only to its own people, and the service never to them."""
    return Services.build(settings, outbound, local_chat=True, commands=frozenset(build_router().commands()))


def delivery_for_chat(services: Services, screen: Outbound) -> DeliveryWorker:
    """The chat's delivery worker, which also routes again what could not be routed."""
    worker = DeliveryWorker(services.outbox, screen, idle_seconds=0.2, doorbell=services.doorbell)
    worker.reroute = partial(reroute_entry, services)
    return worker


def pipeline(services: Services) -> Pipeline:
    """One turn at a time through the route table, for the terminal chat (replies are sent as they are made)."""
    return Pipeline(services, build_router())
