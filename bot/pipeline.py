"""One turn, start to end: remember the conversation, first contact (the table's hook), route, and fail politely."""

from __future__ import annotations

from dataclasses import replace

import structlog

from bot.outbound.replies import ReplySender
from bot.router import Router
from bot.services import Services
from bot.turn import Incoming, Message, Turn
from cards.common import notice_card
from cards.verbs import VERB_RUN_COMMAND

log = structlog.get_logger(__name__)

# No promise that anything was kept: when a turn fails, what it was saving may not have been saved.
SORRY = "Sorry, something went wrong on my side and I couldn't finish that. Please try again in a moment."


class Pipeline:
    """Runs each turn through the router given to it; it knows no dialog itself.

    With a reply sender (the service), a turn's replies go out after Teams has its 200; without one
    (the terminal chat), they are sent as the turn makes them."""

    def __init__(self, services: Services, router: Router, replies: ReplySender | None = None) -> None:
        self.services = services
        self.router = router
        self.replies = replies

    async def on_incoming(self, incoming: Incoming) -> dict | None:
        queued: list | None = [] if self.replies is not None else None
        turn = Turn(incoming, self.services.outbound, queued=queued)
        try:
            await self._run(turn)
        except Exception:
            log.exception("turn failed", kind=incoming.kind, verb=incoming.verb, conversation_kind=incoming.conversation.kind)
            await self._apologise(turn)
        if queued:
            self.replies.send(queued, turn.when_sent)
        return turn.invoke_response

    async def _run(self, turn: Turn) -> None:
        incoming = turn.incoming
        if incoming.kind == "other":
            return
        await self.services.conversations.save(incoming.conversation)
        if incoming.kind == "message" and not incoming.is_personal and not incoming.mentions_bot and not incoming.verb:
            return  # in channels and group chats the bot speaks only when spoken to
        if self.router.first_contact is not None:
            await self.router.first_contact(turn, self.services)
        if incoming.kind in ("install", "members_added"):
            return
        if incoming.verb == VERB_RUN_COMMAND:
            incoming = self._as_typed_command(incoming)
            turn.incoming = incoming
        route = self.router.find(incoming)
        if route is None:
            await self._unrouted(turn)
            return
        log.info("turn", route=route.name, conversation_kind=incoming.conversation.kind)
        turn.argument = route.argument(incoming)
        if route.guard is None or await route.guard(turn, self.services):
            await route.handler(turn, self.services)
        if incoming.is_card_action and turn.invoke_response is None:
            turn.respond_with_text("Done.")

    def _as_typed_command(self, incoming: Incoming) -> Incoming:
        """A help-card button behaves exactly as if its command had been typed."""
        command = incoming.data.get("command")
        if not isinstance(command, str) or command not in self.services.commands:
            return incoming
        return replace(incoming, kind="message", text=command, verb=None, data={})

    async def _unrouted(self, turn: Turn) -> None:
        incoming = turn.incoming
        if incoming.kind == "invoke":
            if incoming.is_card_action:
                turn.respond_with_card(
                    notice_card(
                        "I don't recognise that button",
                        "This card may be from an older version of the bot. Type **help** to see what I can do now.",
                    )
                )
            else:
                turn.invoke_response = {"statusCode": 200}
            return
        if incoming.verb:
            await turn.reply("I don't recognise that button. Type **help** to see what I can do.")

    async def _apologise(self, turn: Turn) -> None:
        if turn.incoming.is_card_action:
            turn.respond_with_card(notice_card("Something went wrong", SORRY))
            return
        if turn.incoming.kind == "invoke":
            turn.invoke_response = {"statusCode": 200}
            return
        try:
            await turn.reply(SORRY)
        except Exception:
            log.exception("could not send the apology either")
