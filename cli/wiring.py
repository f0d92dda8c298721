"""Where the route table meets the app: the only module that imports dialogs.routes.

bot/ knows no dialog; everything that runs the bot (the server, the terminal chat, the tests)
gets the app or the pipeline from here, with the table and the schedule plugged in.
"""

from __future__ import annotations

from aiohttp import web

from bot import app as bot_app
from bot.pipeline import Pipeline
from bot.services import Services
from bot.settings import Settings
from bot.turn import Outbound
from dialogs.routes import SCHEDULE, build_router


def create_app(settings: Settings) -> web.Application:
    """The HTTP service: the aiohttp app with the route table and the weekly schedule."""
    return bot_app.create_app(settings, build_router(), SCHEDULE)


def services(settings: Settings, outbound: Outbound) -> Services:
    """The services for the terminal chat, knowing the route table's commands (its help card lists them)."""
    return Services.build(settings, outbound, commands=frozenset(build_router().commands()))


def pipeline(services: Services) -> Pipeline:
    """One turn at a time through the route table, for the terminal chat (replies are sent as they are made)."""
    return Pipeline(services, build_router())
