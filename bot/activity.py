"""A Teams activity, read into plain data (`Incoming`) that handlers use; nothing here trusts its shape.

Every field may be missing or of the wrong type: each is read with a length limit, and an activity
without a conversation, a service URL or a sender gives None (the edge answers 400).
"""

from __future__ import annotations

import re
from typing import Any

from bot.turn import Incoming
from domain.records import ConversationRef

KINDS = {"message": "message", "invoke": "invoke"}  # installationUpdate and conversationUpdate: see _kind


def _text(value: Any, limit: int = 400) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _mapping(value: Any, key: str) -> dict:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def to_incoming(payload: dict) -> Incoming | None:
    """Translate a Teams activity into plain data; None when it lacks what any handler needs."""
    sender = _mapping(payload, "from")
    ref = _conversation(payload)
    if ref is None:
        return None
    sender_id = _text(sender.get("id"), 200)
    verb, data, text, mentioned = _action(payload, ref)
    members_added = payload.get("membersAdded") if isinstance(payload.get("membersAdded"), list) else []
    return Incoming(
        kind=_kind(payload, members_added), conversation=ref, user_id=_user_id(sender), user_name=_text(sender.get("name"), 200),
        user_teams_id=sender_id, tenant_id=ref.tenant_id, text=text, verb=verb, data=data,
        invoke_name=_text(payload.get("name"), 100), activity_id=_text(payload.get("id"), 200),
        reply_to_id=_text(payload.get("replyToId"), 200), mentions_bot=mentioned,
        members_added_bot=any(isinstance(m, dict) and m.get("id") == ref.bot_id for m in members_added),
    )


def _user_id(sender: dict) -> str:
    """The sender's Entra object id when Teams gives one; else their Teams id, marked as such."""
    return _text(sender.get("aadObjectId"), 64) or f"teams:{_text(sender.get('id'), 200)}"[:64]


def _conversation(payload: dict) -> ConversationRef | None:
    """Where the activity came from, and so where replies go; None without a conversation, service URL or sender."""
    conversation, sender, recipient = _mapping(payload, "conversation"), _mapping(payload, "from"), _mapping(payload, "recipient")
    channel_data = _mapping(payload, "channelData")
    conversation_id = _text(conversation.get("id"), 300)
    service_url = _text(payload.get("serviceUrl"), 500)
    sender_id = _text(sender.get("id"), 200)
    if not (conversation_id and service_url and sender_id):
        return None
    kind = _text(conversation.get("conversationType"), 20) or "personal"
    return ConversationRef(
        id=conversation_id,
        kind=kind,
        service_url=service_url,
        channel_id=_text(payload.get("channelId"), 50) or "msteams",
        bot_id=_text(recipient.get("id"), 200) or "bot",
        bot_name=_text(recipient.get("name"), 200),
        tenant_id=_text(_mapping(channel_data, "tenant").get("id"), 64) or _text(conversation.get("tenantId"), 64),
        user_id=_user_id(sender) if kind == "personal" else None,
        user_teams_id=sender_id if kind == "personal" else None,
        team_id=_text(_mapping(channel_data, "team").get("id"), 300),
        teams_channel_id=_text(_mapping(channel_data, "channel").get("id"), 300),
    )


def _action(payload: dict, ref: ConversationRef) -> tuple[str | None, dict, str, bool]:
    """(verb, data, text, mentions the bot): an Action.Execute invoke, or a message (maybe an older Action.Submit)."""
    value = _mapping(payload, "value")
    if payload.get("type") == "invoke":
        action = _mapping(value, "action")
        # An Action.Execute carries its data in value.action; another invoke (Teams' feedback control's
        # message/submitAction, say) carries it in value itself.
        return _text(action.get("verb"), 100), _mapping(action, "data") if action else value, "", False
    if payload.get("type") == "message":
        names = {ref.bot_name} if ref.bot_name else set()
        text, mentioned = strip_mentions(payload.get("text") if isinstance(payload.get("text"), str) else "", names)
        if value:  # Action.Submit from an older card
            return _text(value.get("verb"), 100), value, text, mentioned
        return None, {}, text, mentioned
    return None, {}, "", False


def _kind(payload: dict, members_added: list) -> str:
    activity_type = payload.get("type")
    if activity_type == "installationUpdate":
        return "install" if payload.get("action") in ("add", "add-upgrade") else "other"
    if activity_type == "conversationUpdate":
        return "members_added" if members_added else "other"
    return KINDS.get(activity_type, "other")


_AT_TAG = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)


def strip_mentions(text: str, bot_names: set[str]) -> tuple[str, bool]:
    """Remove <at>Bot</at> tags naming the bot; return the clean text and whether the bot was named."""
    mentioned = False

    def drop(match: re.Match) -> str:
        nonlocal mentioned
        if not bot_names or match.group(1).strip() in bot_names:
            mentioned = True
            return " "
        return match.group(1)

    if "<at>" not in (text or "").lower():
        return (text or "").strip(), False
    cleaned = _AT_TAG.sub(drop, text).replace("&nbsp;", " ")
    return re.sub(r"[ \u00a0]{2,}", " ", cleaned).strip(), mentioned
