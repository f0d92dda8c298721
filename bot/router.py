"""Routing is a table of (selector, handler); the first route whose selector matches handles the turn."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Awaitable, Callable

from bot.turn import Incoming, Turn

if TYPE_CHECKING:
    from bot.services import Services

Handler = Callable[[Turn, "Services"], Awaitable[None]]
Selector = Callable[[Incoming], bool]


@lru_cache(maxsize=1024)  # every command selector normalises the same text; once per message is enough
def normalise_command(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().strip("/!.?").casefold())


def command(*words: str) -> Selector:
    """A message whose text is the command, optionally followed by an argument."""
    phrases = tuple(normalise_command(w) for w in words)

    def selector(incoming: Incoming) -> bool:
        if incoming.kind != "message" or incoming.verb:
            return False
        text = normalise_command(incoming.text)
        return any(text == p or text.startswith(p + " ") for p in phrases)

    selector.commands = phrases  # type: ignore[attr-defined]
    return selector


def exact(*words: str) -> Selector:
    """A message that is exactly the command, with nothing after it."""
    phrases = tuple(normalise_command(w) for w in words)

    def selector(incoming: Incoming) -> bool:
        return incoming.kind == "message" and not incoming.verb and normalise_command(incoming.text) in phrases

    selector.commands = phrases  # type: ignore[attr-defined]
    return selector


def command_argument(incoming: Incoming, *words: str) -> str:
    """The text after the command word(s), as the user typed it."""
    text = incoming.text.strip()
    for word in sorted(words, key=len, reverse=True):
        if normalise_command(text).startswith(normalise_command(word)):
            return text[len(word):].strip(" :-")
    return ""


def verb(*verbs: str) -> Selector:
    def selector(incoming: Incoming) -> bool:
        return incoming.verb in verbs and incoming.kind in ("invoke", "message")

    selector.verbs = verbs  # type: ignore[attr-defined]
    return selector


def kind(*kinds: str) -> Selector:
    return lambda incoming: incoming.kind in kinds


def any_message(incoming: Incoming) -> bool:
    return incoming.kind == "message" and not incoming.verb


@dataclass(frozen=True)
class Route:
    name: str
    selector: Selector
    handler: Handler


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def find(self, incoming: Incoming) -> Route | None:
        return next((route for route in self.routes if route.selector(incoming)), None)

    def commands(self) -> set[str]:
        return {c for route in self.routes for c in getattr(route.selector, "commands", ())}

    def verbs(self) -> set[str]:
        return {v for route in self.routes for v in getattr(route.selector, "verbs", ())}
