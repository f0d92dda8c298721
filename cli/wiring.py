"""Where the route table meets the app: the only module that imports dialogs.routes.

bot/ knows no dialog; everything that runs the bot (the server, the terminal chat, the tests)
gets the app or the pipeline from here, with the table and the schedule plugged in.
"""

from __future__ import annotations

from functools import partial

from aiohttp import web

from bot import app as bot_app
from bot.pipeline import Pipeline
from bot.services import Services
from bot.settings import Settings
from dialogs.rerouting import reroute_at_start, reroute_entry
from dialogs.routes import SCHEDULE, build_router


def create_app(settings: Settings) -> web.Application:
    """The HTTP service: the aiohttp app with the route table and the weekly schedule; its delivery worker
    routes again what could not be routed, which it also does once at start-up."""
    app = bot_app.create_app(settings, build_router(), SCHEDULE)
    services = app[bot_app.SERVICES]
    services.delivery.reroute = partial(reroute_entry, services)

    async def catch_up(_app: web.Application) -> None:
        await reroute_at_start(services)

    app.on_startup.append(catch_up)
    return app


def pipeline(services: Services) -> Pipeline:
    """One turn at a time through the route table, for the terminal chat."""
    if services.delivery is not None:
        services.delivery.reroute = partial(reroute_entry, services)
    return Pipeline(services, build_router())
