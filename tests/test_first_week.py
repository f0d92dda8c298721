"""Smaller things a council's first week would hit: the team welcome, typed section requests, and `ask`'s verdict."""

from __future__ import annotations

import json

import pytest

from support.activities import activity, message
from support.processes import run_cli as run


async def test_installing_in_a_team_posts_a_short_team_welcome_not_the_personal_card(bot, connector):
    await bot.post(activity("conversationUpdate-channel", connector))
    [hello] = await connector.wait_for(1)
    assert "attachments" not in hello and hello["summary"] == "GenAI policy assistant added"
    assert "mention me with a question, for example: **@Test Bot can I use Copilot to take minutes?**" in hello["text"]
    assert "chat with me 1:1" in hello["text"] and len(hello["text"]) < 700


@pytest.mark.parametrize("typed", ["show me section 7.2", "section 7.2", "open 7.2", "Open section 7.2?"])
async def test_a_typed_section_number_opens_that_section(bot, connector, typed):
    await bot.post(message(connector, "hi", user="aad-s", conversation_id="a:s"))
    await bot.settled()
    connector.requests.clear()
    await bot.post(message(connector, typed, user="aad-s", conversation_id="a:s"))
    [reply] = await connector.wait_for(1)
    card = reply["attachments"][0]["content"]
    assert card["body"][0]["text"].startswith("7.2 ") and reply["summary"] == "Policy section 7.2"


async def test_words_after_section_that_are_not_a_number_are_a_question(bot, connector):
    await bot.post(message(connector, "hi", user="aad-s", conversation_id="a:s"))
    await bot.settled()
    connector.requests.clear()
    await bot.post(message(connector, "open source AI tools: can I use them?", user="aad-s", conversation_id="a:s"))
    [reply, *_] = await connector.wait_for(1)
    assert "Section not found" not in json.dumps(reply) and "Here is what the policy says" in json.dumps(reply)


def test_ask_on_the_command_line_gives_the_registers_verdict_first(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/b.db"}
    register = tmp_path / "register.csv"
    register.write_text("name,aliases,category,status,conditions\n"
                        "Claude,Anthropic Claude,public,approved with conditions,No personal data\n")
    assert run("tools", "import", str(register), env=env).returncode == 0
    result = run("ask", "is Claude approved?", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Claude is approved with conditions: No personal data\n")
    assert "[1] 4 Approved tools" in result.stdout
    payload = json.loads(run("ask", "--json", "can I use Otter.ai?", env=env).stdout)
    assert payload["tools"] == [{"name": "Otter.ai", "on_register": False, "status": None, "conditions": None}]
