"""Routing is one table of routes; the first route that matches handles the turn.

A route names what it answers to: typed commands (which may be followed by an argument), exact
phrases (nothing after them), card verbs, or any other message (the fallback, which must come
last). The table itself is `dialogs/routes.py`. Building a `Router` refuses a table in which a
route could never run because an earlier one already owns its phrase or verb. A route may name a
guard, middleware that runs before its handler and may answer the turn itself (a refusal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Awaitable, Callable

from bot.turn import Incoming, Turn

if TYPE_CHECKING:
    from bot.services import Services

Handler = Callable[[Turn, "Services"], Awaitable[None]]
FirstContact = Callable[[Turn, "Services"], Awaitable[bool]]  # True when it welcomed someone
Guard = Callable[[Turn, "Services"], Awaitable[bool]]  # route middleware: True lets the turn on; False: it has answered


@lru_cache(maxsize=1024)  # every route normalises the same text; once per message is enough
def normalise_command(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().strip("/!.?").casefold())


def command_argument(incoming: Incoming, *words: str) -> str:
    """The text after the command word(s), as the user typed it."""
    text = incoming.text.strip()
    for word in sorted(words, key=len, reverse=True):
        if normalise_command(text).startswith(normalise_command(word)):
            return text[len(word):].strip(" :-")
    return ""


class RouteConflict(ValueError):
    """A route that could never run: an earlier route owns its phrase or verb, or it follows the fallback."""


@dataclass(frozen=True)
class Route:
    name: str
    handler: Handler
    commands: tuple[str, ...] = ()  # typed, optionally followed by an argument
    exact: tuple[str, ...] = ()  # typed, with nothing after
    verbs: tuple[str, ...] = ()  # card buttons
    invokes: tuple[str, ...] = ()  # invokes other than card buttons, by name (Teams' feedback control)
    any_message: bool = False  # the fallback: any message that is not a card action
    guard: Guard | None = None  # runs before the handler (who may use this route); see dialogs/guards.py

    @cached_property
    def command_phrases(self) -> tuple[str, ...]:
        return tuple(normalise_command(c) for c in self.commands)

    @cached_property
    def exact_phrases(self) -> tuple[str, ...]:
        return tuple(normalise_command(c) for c in self.exact)

    def matches(self, incoming: Incoming) -> bool:
        if incoming.verb:
            return incoming.verb in self.verbs and incoming.kind in ("invoke", "message")
        if incoming.kind == "invoke":
            return incoming.invoke_name in self.invokes
        if incoming.kind != "message":
            return False
        if self.any_message:
            return True
        text = normalise_command(incoming.text)
        return text in self.exact_phrases or any(text == p or text.startswith(p + " ") for p in self.command_phrases)

    def argument(self, incoming: Incoming) -> str:
        """What follows the command the user typed ("request tool Otter" gives "Otter")."""
        return command_argument(incoming, *self.commands) if self.commands else ""


class Router:
    def __init__(self, routes: list[Route] | tuple[Route, ...], *, first_contact: FirstContact | None = None) -> None:
        self.routes = tuple(routes)
        self.first_contact = first_contact  # runs before routing on every turn (the welcome)
        _check(self.routes)

    def find(self, incoming: Incoming) -> Route | None:
        return next((route for route in self.routes if route.matches(incoming)), None)

    def commands(self) -> set[str]:
        return {p for route in self.routes for p in (*route.command_phrases, *route.exact_phrases)}

    def verbs(self) -> set[str]:
        return {v for route in self.routes for v in route.verbs}


def _check(routes: tuple[Route, ...]) -> None:
    """Raise RouteConflict for a route that an earlier one shadows (first match wins, so it could never run)."""
    phrases: dict[str, str] = {}  # phrase -> the route owning it
    prefixes: dict[str, str] = {}  # command phrase -> its route (it also owns "phrase <anything>")
    verbs: dict[str, str] = {}
    fallback: str | None = None
    for route in routes:
        if fallback:
            raise RouteConflict(f"route {route.name} comes after the fallback {fallback}, so it can never run")
        for phrase in (*route.command_phrases, *route.exact_phrases):
            owner = phrases.get(phrase) or next(
                (name for prefix, name in prefixes.items() if phrase.startswith(prefix + " ")), None)
            if owner and owner != route.name:
                raise RouteConflict(f"route {route.name}: {phrase!r} is already handled by route {owner}")
        for verb in (*route.verbs, *(f"invoke {name}" for name in route.invokes)):
            if verb in verbs:
                raise RouteConflict(f"route {route.name}: verb {verb!r} is already handled by route {verbs[verb]}")
            verbs[verb] = route.name
        phrases.update((p, route.name) for p in (*route.command_phrases, *route.exact_phrases))
        prefixes.update((p, route.name) for p in route.command_phrases)
        if route.any_message:
            fallback = route.name
