"""The route table: one table, and no route in it that an earlier route shadows."""

from __future__ import annotations

import pytest

from bot.router import Route, RouteConflict, Router, normalise_command
from bot.turn import Incoming
from cards.help import COMMANDS
from dialogs.routes import ROUTES, build_router
from domain.records import ConversationRef

REF = ConversationRef(id="a:1", kind="personal", service_url="http://x", channel_id="msteams", bot_id="b")


async def handler(turn, services) -> None:  # never called: these tests only build tables
    return None


def message(text: str) -> Incoming:
    return Incoming(kind="message", conversation=REF, user_id="u", text=text)


def test_the_table_builds_and_every_route_name_is_unique():
    router = build_router()
    assert len({route.name for route in router.routes}) == len(ROUTES)
    assert router.routes[-1].any_message


def test_every_command_button_is_owned_by_a_route_other_than_the_fallback():
    router = build_router()
    # The help card's buttons, and "report incident" on answer and status cards.
    for command in [*(info.command for info in COMMANDS), "report incident"]:
        route = router.find(message(command))
        assert route is not None and not route.any_message, command


def test_a_command_runs_with_its_argument():
    route = build_router().find(message("request tool  Otter.ai"))
    assert route.name == "approval.form" and route.argument(message("request tool  Otter.ai")) == "Otter.ai"


@pytest.mark.parametrize("routes, words", [
    ([Route("a", handler, commands=("help",)), Route("b", handler, exact=("Help!",))], "'help' is already handled by route a"),
    ([Route("a", handler, commands=("report",)), Route("b", handler, commands=("report incident",))],
     "'report incident' is already handled by route a"),
    ([Route("a", handler, verbs=("x.go",)), Route("b", handler, verbs=("x.go",))], "verb 'x.go' is already handled by route a"),
    ([Route("a", handler, any_message=True), Route("b", handler, commands=("help",))], "comes after the fallback a"),
])
def test_a_shadowed_route_is_refused(routes, words):
    with pytest.raises(RouteConflict, match=words):
        Router(routes)


def test_an_exact_phrase_does_not_shadow_a_longer_command():
    router = Router([Route("a", handler, exact=("report",)), Route("b", handler, commands=("report incident",))])
    assert router.find(message("report incident Otter")).name == "b"
    assert router.find(message("report")).name == "a"
    assert normalise_command("report") in router.commands()
