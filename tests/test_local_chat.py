"""The terminal chat (`policy-bot chat`) is a world of its own: the service never sends to, reminds or counts
its people, and the chat never delivers the service's messages."""

from __future__ import annotations

import asyncio

from conftest import make_settings, message, start_bot
from domain import EXAMPLE_POLICY_PATH
from domain.records import LOCAL_CHAT_URL, ConversationRef
from test_settings_and_cli import run


def chat(db_url: str, lines: list[str], *args: str, **env: str):
    result = run("chat", *args, env={"DATABASE_URL": db_url, "LOG_LEVEL": "ERROR", **env},
                 stdin="\n".join([*lines, "quit"]) + "\n")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_people_of_the_terminal_chat_are_not_asked_reminded_or_counted(tmp_path):
    db_url = f"sqlite:///{tmp_path}/b.db"
    chat(db_url, ["hi"], USER="alice")
    chat(db_url, ["hi"], USER="bob")
    policy = tmp_path / "v2.md"
    policy.write_text(EXAMPLE_POLICY_PATH.read_text().replace("## 16. Review", "## 16. Review and updates"))
    published = run("policy", "publish", str(policy), "--version", "2", env={"DATABASE_URL": db_url})
    assert "asked 0 people to acknowledge it" in published.stdout, published.stderr
    reminded = run("remind", "--round", "r1", env={"DATABASE_URL": db_url})
    assert "round r1: sent 0, failed 0, skipped 0" in reminded.stdout, reminded.stderr
    report = run("report", "acknowledgements", env={"DATABASE_URL": db_url})
    assert "0 of 0 known people acknowledged" in report.stdout


async def test_the_service_never_sends_to_the_terminal_chat(tmp_path, connector):
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", outbox_base_delay=0.05)
    bot, runner = await start_bot(settings)
    try:
        local = ConversationRef(id="local-chat-alice", kind="personal", service_url=LOCAL_CHAT_URL, channel_id="msteams",
                                bot_id="policy-bot", user_id="local-alice")
        await bot.services.outbox.add_many([("test:local", local, {"type": "message", "text": "for the chat"})])
        await bot.post(message(connector, "hi", user="aad-a", conversation_id="a:a"))  # the worker is busy meanwhile
        await asyncio.sleep(1.5)
        [entry] = await bot.services.outbox.entries(prefix="test:local")
        assert entry.status == "pending" and entry.attempts == 0
        assert connector.activities() and not any("local" in r.path for r in connector.requests)
    finally:
        await bot.session.close()
        await runner.cleanup()
