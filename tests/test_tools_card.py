"""The tools card echoes names that staff chose: an approved request puts its tool name on the register."""

from __future__ import annotations

import json

from conftest import card_action, make_settings, message, start_bot

APPROVER, STAFF = "aad-approver", "aad-staff"
NAME = "<at>Everyone</at> [Claim your prize](https://evil.example) **Now**"


async def test_the_tools_cards_fallback_text_is_escaped_like_its_body(tmp_path, connector):
    running, runner = await start_bot(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", approver_ids=APPROVER))
    try:
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
        card = (await connector.wait_for_text("Approved AI tools: ", conversation="a:staff"))["attachments"][0]["content"]
        assert "<at>" not in json.dumps(card) and "](https://" not in json.dumps(card)
        assert "<at>" not in card["fallbackText"] and "](https://" not in card["fallbackText"]
    finally:
        await running.session.close()
        await runner.cleanup()
