"""The tools card echoes names that staff chose: an approved request puts its tool name on the register."""

from __future__ import annotations

import json

from support.activities import card_action, message
from support.bots import make_settings, running_bot

APPROVER, STAFF = "aad-approver", "aad-staff"
NAME = "<at>Everyone</at> [Claim your prize](https://evil.example) **Now**"


async def test_the_tools_cards_fallback_text_is_escaped_like_its_body(tmp_path, connector):
    async with running_bot(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", approver_ids=APPROVER)) as running:
        await running.post(message(connector, "hello", user=APPROVER, conversation_id="a:approver"))
        request = {"tool_name": NAME, "purpose": "Prize draws.", "data_classification": "public",
                   "data_description": "None.", "expected_output": "Text.", "output_use": "Posters.", "category": "public"}
        receipt = await (await running.post(card_action(connector, "approval.submit", request, user=STAFF))).json()
        reference = receipt["value"]["body"][0]["text"].split(": ")[1]
        decided = await running.post(card_action(connector, "approval.decide",
                                                 {"reference": reference, "version": 1, "action": "approve"}, user=APPROVER,
                                                 conversation_id="a:approver"))
        assert "Approved" in await decided.text()

        await running.post(message(connector, "tools", user=STAFF, conversation_id="a:staff"))
        card = (await connector.wait_for_text("AI tools register: ", conversation="a:staff"))["attachments"][0]["content"]
        assert "<at>" not in json.dumps(card) and "](https://" not in json.dumps(card)
        assert "<at>" not in card["fallbackText"] and "](https://" not in card["fallbackText"]


def grouped(card: dict) -> dict[str, dict[str, dict[str, str]]]:
    """The card read as a person reads it: each group heading, the tools under it, and each tool's facts."""
    groups: dict[str, dict[str, dict[str, str]]] = {}
    current = None
    for element in card["body"]:
        if element["type"] == "TextBlock" and element["text"].startswith("**") and element.get("spacing") == "Large":
            current = groups.setdefault(element["text"].strip("*").split("**")[0], {})
        elif element["type"] == "Container":
            name = element["items"][0]["text"].strip("*")
            current[name] = {fact["title"]: fact["value"] for fact in element["items"][1]["facts"]}
    return groups


async def test_the_tools_card_groups_the_register_by_status_with_the_right_words(tmp_path, connector):
    async with running_bot(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")) as running:
        await running.post(message(connector, "tools", user=STAFF, conversation_id="a:staff"))
        card = (await connector.wait_for_text("AI tools register: ", conversation="a:staff"))["attachments"][0]["content"]
        groups = grouped(card)
        assert list(groups) == ["Approved", "Approved with conditions", "Not approved: don't use these for council work"]
        assert list(groups["Approved"]) == ["Council Document Summariser"]
        assert "DeepSeek" not in groups["Approved"] and "DeepSeek" not in groups["Approved with conditions"]
        deepseek = groups["Not approved: don't use these for council work"]["DeepSeek"]
        assert deepseek["Reason"].startswith("Data is processed outside the UK")
        assert "Conditions" not in deepseek and "Review due" not in deepseek
        copilot = groups["Approved with conditions"]["Microsoft 365 Copilot Chat"]
        assert copilot["Conditions"].startswith("Use only while signed in") and copilot["Review due"] == "2027-03-02"
        assert card["fallbackText"] == "AI tools register: 1 approved, 3 approved with conditions, 1 not approved"
