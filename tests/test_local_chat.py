"""The terminal chat (`policy-bot chat`) is a world of its own: the service never sends to, reminds or counts
its people, and the chat never delivers the service's messages."""

from __future__ import annotations

import asyncio
import re

from contextlib import AsyncExitStack
from support.activities import message
from support.bots import make_settings, running_bot
from domain import EXAMPLE_POLICY_PATH
from domain.records import LOCAL_CHAT_URL, ConversationRef
from support.processes import chat, run_cli as run


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
    runner = AsyncExitStack()
    bot = await runner.enter_async_context(running_bot(settings))
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
        await runner.aclose()


def flat(text: str) -> str:
    """What the terminal showed, without the card's frame and line breaks."""
    return " ".join(text.replace("│", " ").split())


REQUEST = ["request tool Gamma", "1", "", "Draft slides for briefings", "public", "Published reports", "Slides",
           "Internal briefings", "public", ""]


def test_an_approver_decides_in_their_own_chat_and_the_requester_is_told(tmp_path):
    out = chat(f"sqlite:///{tmp_path}/b.db", [*REQUEST, "/switch alice", "1", "/switch carol", "is Gamma approved?"],
               "--as", "carol", "--approver", "alice")
    as_carol, as_alice, carol_again = re.split(r"── you are now \w+.*──", out)[1:4]
    assert "Request received: REQ-" in as_carol and "(a card for alice is waiting: type /switch alice)" in as_carol
    assert "[1] Approve\n" not in as_carol  # the approvers' card is not the requester's to press
    assert "── you are now alice (approver) ──" in out
    assert "AI tool request REQ-" in as_alice or "Gamma" in as_alice
    assert "[1] Approve\n" in as_alice and "Approved by alice" in as_alice
    assert "approved" in carol_again.lower() and "Gamma" in carol_again


def test_a_triage_member_acknowledges_a_report_from_another_person(tmp_path):
    out = chat(f"sqlite:///{tmp_path}/b.db",
               ["report incident", "1", "A summary went to the wrong team", "Copilot", "", "no", "other", "low", "no",
                "/switch bob", "1", "", "", "/switch carol"], "--as", "carol", "--governance", "bob", "--security", "bob")
    as_carol, as_bob, carol_again = re.split(r"── you are now \w+.*──", out)[1:4]
    assert "I've sent it to the GenAI Governance Board (1 person" in flat(as_carol) and "[1] Acknowledge" not in as_carol
    assert "── you are now bob (governance, security) ──" in out
    assert "[1] Acknowledge" in as_bob and "Status: Acknowledged" in as_bob
    assert "has been acknowledged by the triage team" in carol_again


def test_a_name_that_is_not_a_name_is_refused_in_one_line(tmp_path):
    result = run("chat", "--as", "al ice", env={"DATABASE_URL": f"sqlite:///{tmp_path}/b.db"}, stdin="quit\n")
    assert result.stdout.strip() == ("policy-bot: 'al ice' is not a name for the chat: use letters, digits, '.', '_' "
                                     "or '-'")


def test_a_report_with_nowhere_to_go_stays_failed_in_the_chat_not_sent(tmp_path):
    db_url = f"sqlite:///{tmp_path}/b.db"
    out = chat(db_url, ["report incident", "1", "A summary went to the wrong team", "Copilot", "", "no", "other", "low",
                        "no"], "--as", "carol")
    assert "I couldn't send it to the GenAI Governance Board and the IT security team" in flat(out)
    retried = run("outbox", "retry", env={"DATABASE_URL": db_url}).stdout
    assert "still nowhere to go: 1 (no governance channel is registered and no GOVERNANCE_IDS are configured)" in retried
    chat(db_url, [], "--as", "carol")  # the chat's delivery worker runs again: it must not "deliver" them to the screen
    listing = run("outbox", "list", env={"DATABASE_URL": db_url}).stdout
    cards = [line.split("\t") for line in listing.splitlines() if ":card:" in line]
    assert sorted((status, key.rsplit(":", 1)[1]) for _, status, _, key, *_ in cards) == [
        ("failed", "governance"), ("failed", "security")]


def test_a_request_with_no_approvers_is_explained_by_the_receipt_alone(tmp_path):
    """With nobody to send it to, the receipt says so in plain words; no log line about routing reaches the
    person's terminal (chat() fails on anything written to stderr)."""
    out = chat(f"sqlite:///{tmp_path}/b.db", REQUEST, "--as", "carol")
    assert ("I couldn't send it to the approvers at the GenAI Governance Board automatically: nobody there can be "
            "reached by this bot yet. Nothing you sent was lost.") in flat(out)
    assert "routed" not in out


def test_slash_quit_ends_the_chat_like_quit(tmp_path):
    """'/switch' is typed with a slash, so people type '/quit' too: it ends the chat instead of being asked as a question."""
    result = run("chat", env={"DATABASE_URL": f"sqlite:///{tmp_path}/b.db"}, stdin="/quit\nis Claude approved?\n")
    assert result.returncode == 0, result.stderr
    assert "Claude is not on the approved tools list" not in result.stdout and "The policy doesn't cover that" not in result.stdout


def test_a_choice_can_be_typed_as_the_card_shows_it(tmp_path):
    """At a choice prompt, the title the card shows ("Official sensitive", "Procured") is as good as its value."""
    typed = ["request tool Gamma", "1", "", "Draft slides for briefings", "Official sensitive", "Draft papers",
             "Slides", "Internal briefings", "PROCURED", ""]
    out = chat(f"sqlite:///{tmp_path}/b.db", [*typed, "my requests"], "--as", "carol")
    assert "Request received: REQ-" in out and "Please choose" not in out
