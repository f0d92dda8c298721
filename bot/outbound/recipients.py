"""Where proactive cards go: a registered team channel, or else each configured person 1:1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import structlog

from bot.services import Services
from bot.turn import Message
from domain.records import UNREACHABLE, ConversationRef, Notification, OutboxEntry

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Recipient:
    name: str  # stable part of the outbox key: "governance", "security:<id>", "dpo:<id>"
    conversation: ConversationRef | None
    problem: str | None = None  # why the message cannot be delivered, recorded in the outbox
    user_id: str | None = None  # set when the message goes to one person 1:1


def nowhere(name: str) -> ConversationRef:
    """Stands in for a conversation the bot does not have, so the undeliverable message is still recorded."""
    return ConversationRef(id=f"{UNREACHABLE}{name}", kind="personal", service_url="", channel_id="msteams", bot_id="")


async def team(services: Services, purpose: str, ids: frozenset[str], *, setting: str | None = None) -> list[Recipient]:
    """A registered channel, or else each configured member 1:1."""
    channel = await services.channels.get(purpose)
    if channel is not None:
        return [Recipient(purpose, channel)]
    if not ids:
        setting = setting or f"{purpose.upper()}_IDS"
        return [Recipient(purpose, None, f"no {purpose} channel is registered and no {setting} are configured")]
    return [await person(services, f"{purpose}:{user}", user) for user in sorted(ids)]


async def person(services: Services, name: str, user_id: str) -> Recipient:
    conversation = await services.conversations.personal_for(user_id)
    if conversation is None:
        return Recipient(name, None, f"the bot has no chat with {user_id} yet: they must open it once in Teams", user_id)
    return Recipient(name, conversation, user_id=user_id)


async def sender_chat(services: Services, user_id: str, conversation: ConversationRef) -> Recipient:
    """Where to tell someone, later, about something they sent: that chat if it is their 1:1 chat with the bot,
    or else their 1:1 chat."""
    if conversation.kind == "personal" and conversation.user_id == user_id:
        return Recipient(user_id, conversation, user_id=user_id)
    return await person(services, user_id, user_id)


def told_if_failed(key: str, sender: Recipient, text: str) -> Notification:
    """The message for someone who was told a notification went out, should it fail for good."""
    return notification_to(sender, key, Message(text=text))


def activity_for(message: Message, recipient: Recipient) -> dict:
    return message.to_activity(recipient.conversation or nowhere(recipient.name))


def notification_to(recipient: Recipient, key: str, message: Message, *,
                    if_failed: Notification | None = None) -> Notification:
    """A message for a recipient; recorded as undeliverable, with the reason, if they can't be reached."""
    return Notification(key, recipient.conversation or nowhere(recipient.name), activity_for(message, recipient),
                        undeliverable=recipient.problem, if_failed=if_failed)


def to_personal_chat(key: str, conversation: ConversationRef | None, user_id: str, message: Message,
                     who: str) -> Notification:
    """A message for someone's 1:1 chat with the bot; recorded as undeliverable if they have none."""
    where = conversation or nowhere(user_id)
    return Notification(key, where, message.to_activity(where),
                        undeliverable=None if conversation else f"the {who} has no 1:1 chat with the bot")


async def teams_ids_for(services: Services, user_ids: frozenset[str], channel: ConversationRef | None) -> list[str]:
    """Teams user ids (29:…) for these Entra ids, which Teams needs to refresh a channel card for each of them:
    from the people the bot has seen, and from the channel's team roster for the rest."""
    wanted = sorted(user_ids)
    found = await services.users.teams_ids(wanted)
    members = getattr(services.outbound, "members", None)
    if channel is not None and members is not None and len(found) < len(wanted):
        try:
            roster = await members(channel)
        except Exception as exc:  # the roster is a nicety: cards still work for those already known
            log.warning("could not read the team roster for Teams user ids", error=str(exc)[:200])
            roster = []
        found.update({m["aadObjectId"]: m["id"] for m in roster
                      if isinstance(m, dict) and m.get("aadObjectId") in user_ids and m.get("id")})
    return sorted(found.values())


def updates_of_sent_cards(originals: list[OutboxEntry], key_prefix: str,
                          card_for: Callable[[str | None, list[str] | None], dict]) -> list[Notification]:
    """Update in place every card that actually went out (keys "…:card:<recipient>"), keeping each one's
    refresh list. `card_for(user_id, refresh_user_ids)` draws the new card; user_id is None for a channel."""
    notes = []
    for original in originals:
        if original.update_of is not None or original.status == "failed":
            continue  # an update itself, or a card that never reached anyone
        name = original.key.split(":card:", 1)[1]
        user = name.split(":", 1)[1] if ":" in name else None
        card = card_for(user, _refresh_ids_of(original.activity))
        notes.append(Notification(f"{key_prefix}{name}", original.conversation,
                                  Message(cards=[card]).to_activity(original.conversation), update_of=original.key))
    return notes


def _refresh_ids_of(activity: dict) -> list[str] | None:
    for attachment in activity.get("attachments", []):
        refresh = (attachment.get("content") or {}).get("refresh") or {}
        if "userIds" in refresh:
            return list(refresh["userIds"])
    return None
