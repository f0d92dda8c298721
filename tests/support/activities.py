"""Teams-shaped activities: real ones captured from Microsoft's local client, pointed at a fake connector.

The tenant is in channelData.tenant.id, channel messages @mention the bot with <at>, and card buttons
arrive as an adaptiveCard/action invoke carrying Action.Execute, as Teams sends them."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ACTIVITIES = json.loads((FIXTURES / "teams-activities.json").read_text())
TENANT = "00000000-0000-0000-0000-0000000000001"


def activity(kind: str, connector: Any, **changes: Any) -> dict:
    """A captured activity of this kind; `connector` is a fake connector (its `url`) or a service URL.

    `user="aad-x"` sets who sends it, `conversation_id=` the conversation; other keys replace fields."""
    data = copy.deepcopy(ACTIVITIES[kind])
    data["serviceUrl"] = connector if isinstance(connector, str) else connector.url
    data["id"] = str(uuid.uuid4())
    for key, value in changes.items():
        if key == "user":
            data["from"] = {**data["from"], "id": f"29:{value}", "aadObjectId": value, "name": f"User {value}"}
        elif key == "conversation_id":
            data["conversation"] = {**data["conversation"], "id": value}
        else:
            data[key] = value
    return data


def message(connector: Any, text: str, **changes: Any) -> dict:
    """A message in a personal (1:1) chat."""
    return activity("message-personal", connector, text=text, **changes)


def card_action(connector: Any, verb: str, data: dict | None = None, *, channel: bool = False, **changes) -> dict:
    """A click on an Action.Execute button: the adaptiveCard/action invoke, in a 1:1 chat or a channel."""
    kind = "invoke-adaptiveCard/action-channel" if channel else "invoke-adaptiveCard/action-personal"
    invoke = activity(kind, connector, **changes)
    invoke["value"] = {"action": {"type": "Action.Execute", "title": verb, "verb": verb, "data": {"verb": verb, **(data or {})}}}
    return invoke


def channel_message(connector: Any, text: str, channel_id: str, *, user: str) -> dict:
    """A message in a team channel that @mentions the bot."""
    body = activity("message-channel", connector, text=f"<at>Test Bot</at> {text}", user=user,
                    conversation_id=f"{channel_id};messageid=1")
    body["channelData"] = {**body["channelData"], "channel": {"id": channel_id}}
    return body


# A complete, valid incident report form, as the form card submits it.
GOOD_REPORT = {
    "description": "Copilot put a resident's name and address into a summary shared with the whole team.",
    "tool_name": "Copilot", "occurred_at": "2026-11-20 09:30", "personal_data": "unsure",
    "category": "data_exposed", "severity": "high", "anonymous": "false",
}
