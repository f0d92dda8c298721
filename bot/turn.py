"""What dialogs see of a turn: plain data in, plain messages out. No Bot Framework types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol

from domain.records import ConversationRef

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


@dataclass(frozen=True)
class Incoming:
    kind: str  # message, invoke, install, members_added, other
    conversation: ConversationRef
    user_id: str  # Entra object id when Teams gives one
    user_name: str | None = None
    user_teams_id: str | None = None
    tenant_id: str | None = None
    text: str = ""  # with the bot's @mention removed
    verb: str | None = None  # Action.Execute verb, or the `verb` of an Action.Submit payload
    data: dict[str, Any] = field(default_factory=dict)
    invoke_name: str | None = None
    activity_id: str | None = None
    reply_to_id: str | None = None  # the message this one answers (Teams' feedback control names the answer rated)
    mentions_bot: bool = False
    members_added_bot: bool = False

    @property
    def is_personal(self) -> bool:
        return self.conversation.kind == "personal"

    @property
    def is_card_action(self) -> bool:
        return self.kind == "invoke" and self.invoke_name == "adaptiveCard/action"

    @property
    def own_refresh_ids(self) -> list[str] | None:
        """This person's Teams id, for a card only they will see refreshed (Universal Actions' userIds); None
        where Teams gave none."""
        return [self.user_teams_id] if self.user_teams_id else None


@dataclass
class Message:
    text: str | None = None
    cards: list[dict] = field(default_factory=list)
    entities: list[dict] = field(default_factory=list)
    channel_data: dict | None = None
    summary: str | None = None  # notification preview text for card-only messages

    def to_activity(self, ref: ConversationRef, reply_to_id: str | None = None) -> dict:
        activity: dict[str, Any] = {
            "type": "message",
            "from": {"id": ref.bot_id, "name": ref.bot_name},
            "conversation": {"id": ref.id},
            "channelId": ref.channel_id,
            "serviceUrl": ref.service_url,
        }
        if self.text is not None:
            activity["text"] = self.text
            activity["textFormat"] = "markdown"
        if self.summary:
            activity["summary"] = self.summary
        if self.cards:
            activity["attachments"] = [{"contentType": ADAPTIVE_CARD, "content": card} for card in self.cards]
        if self.entities:
            activity["entities"] = self.entities
        if self.channel_data:
            activity["channelData"] = self.channel_data
        if reply_to_id:
            activity["replyToId"] = reply_to_id
        return activity


Sent = Callable[[str | None], Awaitable[None]]  # told the id Teams gave a reply, once it is sent


class Outbound(Protocol):
    """Where messages go: Teams' connector over HTTP, or the terminal chat's screen.

    `feedback_loop`: whether messages there can carry Teams' own feedback control (thumbs up and down)."""

    feedback_loop: bool

    async def send(self, ref: ConversationRef, activity: dict, reply_to_id: str | None = None) -> str | None: ...

    async def update(self, ref: ConversationRef, activity_id: str, activity: dict) -> None: ...


class Turn:
    """One incoming activity and the ways to answer it."""

    def __init__(self, incoming: Incoming, outbound: Outbound, *, queued: list | None = None) -> None:
        self.incoming = incoming
        self._outbound = outbound
        # When given, replies wait here and are sent when the turn ends, after Teams has its 200.
        self.queued = queued
        self.invoke_response: dict | None = None
        self.sent: list[dict] = []
        self.when_sent: dict[str, Sent] = {}  # by outbox key: what to do with a queued reply's id once it is sent
        self.argument = ""  # what followed the route's command ("request tool Otter" gives "Otter")

    async def reply(self, message: Message | str, *, when_sent: Sent | None = None) -> None:
        """`when_sent` is told the id Teams gives the message (to find it again, as its feedback names it)."""
        if isinstance(message, str):
            message = Message(text=message)
        # Channel threads need the reply addressed to the thread's root; 1:1 chats take a plain send.
        reply_to = None if self.incoming.is_personal else self.incoming.activity_id
        activity = message.to_activity(self.incoming.conversation, reply_to_id=reply_to)
        self.sent.append(activity)
        if self.queued is None:
            activity_id = await self._outbound.send(self.incoming.conversation, activity, reply_to)
            if when_sent is not None:
                await when_sent(activity_id)
            return
        # The outbox key, if the reply must wait there: keyed by the incoming activity, so Teams redelivering
        # the same activity queues no second copy.
        key = f"reply:{self.incoming.conversation.id}:{self.incoming.activity_id or id(self)}:{len(self.sent)}"
        self.queued.append((key, self.incoming.conversation, activity))
        if when_sent is not None:
            self.when_sent[key] = when_sent

    async def show(self, card: dict) -> None:
        """Replace the clicked card when answering a card action; otherwise send the card as a message."""
        if self.incoming.is_card_action:
            self.respond_with_card(card)
        else:
            await self.reply(Message(cards=[card]))

    async def show_below(self, card: dict, *, summary: str, clicked: str) -> None:
        """Send the card as a new message, also when answering a card action: the card clicked (a list) stays as it
        is, and its button answers `clicked` (where the new card is)."""
        await self.reply(Message(cards=[card], summary=summary))
        if self.incoming.is_card_action:
            self.respond_with_text(clicked)

    def respond_with_card(self, card: dict) -> None:
        """The card that replaces the one clicked (Universal Actions invoke response)."""
        self.invoke_response = {"statusCode": 200, "type": ADAPTIVE_CARD, "value": card}

    def respond_with_text(self, text: str) -> None:
        self.invoke_response = {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}
