"""tools: the approved-tools register in chat."""

from __future__ import annotations

from bot.services import Services
from bot.turn import Message, Turn
from cards.tools import build_tools_card


async def list_tools(turn: Turn, services: Services) -> None:
    tools = await services.tools.all()
    await turn.reply(Message(cards=[build_tools_card(tools)], summary="AI tools register"))
