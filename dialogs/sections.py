"""Typed requests for one section of the policy: "show me section 7.2", "section 7.2", "open 7.2".

Anything else after these words is a question in its own right ("section 4 says what about Copilot?"),
so it goes to the Q&A as if no command had matched.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.services import Services
from bot.turn import Turn
from dialogs import qa

COMMANDS = ("show me section", "show section", "open section", "read section", "go to section", "section",
            "show me", "open")
NUMBER = re.compile(r"(?:section\s+|§\s*)?(\d{1,3}(?:\.\d{1,3}){0,4})\.?", re.IGNORECASE)


async def open_section(turn: Turn, services: Services) -> None:
    number = NUMBER.fullmatch(turn.argument.strip().rstrip("?!. "))
    if number is None:
        await qa.answer_question(turn, services)
        return
    turn.incoming = replace(turn.incoming, data={"section": number.group(1)})
    await qa.show_section(turn, services)
