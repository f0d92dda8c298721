"""help: the commands as buttons."""

from __future__ import annotations

from bot.services import Services
from bot.turn import Message, Turn
from cards.help import build_help_card


async def show_help(turn: Turn, services: Services) -> None:
    await turn.reply(Message(cards=[build_help_card(set(services.commands))], summary="What I can do"))
