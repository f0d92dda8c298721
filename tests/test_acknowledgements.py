"""Policy acknowledgement over HTTP, new versions, the governance report, CSV export and reminder rounds."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from support.activities import activity, card_action, message
from support.processes import BIN, run_cli_async
from domain import EXAMPLE_POLICY_PATH
from storage.models import AcknowledgementRow

GOV = "aad-gov"


@pytest.fixture
def bot_settings():
    return dict(governance_ids=GOV, outbox_base_delay=0.05)


def card_named(activities: list[dict], title: str) -> dict:
    for a in activities:
        for attachment in a.get("attachments", []):
            if title in json.dumps(attachment["content"]):
                return attachment["content"]
    raise AssertionError(f"no card with {title!r}")


def button_data(card: dict, title: str) -> dict:
    return next(a["data"] for a in card["actions"] if a["title"] == title)


async def test_acknowledging_once_per_version_and_again_when_a_new_one_is_published(bot, connector):
    await bot.post(message(connector, "hello"))
    prompt = card_named(await connector.wait_for(3), "Please confirm you have read the GenAI policy")
    assert "Use only approved AI tools" in json.dumps(prompt)
    confirm = button_data(prompt, "I have read and understood the policy")

    first = await (await bot.post(card_action(connector, "policy.acknowledge", confirm))).json()
    assert "Thank you. Recorded: version example-policy-initial" in json.dumps(first)
    again = await (await bot.post(card_action(connector, "policy.acknowledge", confirm))).json()  # double click / retry
    assert "You had already acknowledged this version" in json.dumps(again)
    async with bot.services.db.sessions() as session:
        rows = (await session.execute(select(AcknowledgementRow))).scalars().all()
    assert len(rows) == 1 and rows[0].user_id == "00000000-0000-0000-0000-0000000000020" and len(rows[0].sha256) == 64

    # Reading the policy section by section from the card.
    page = await (await bot.post(card_action(connector, "policy.read", button_data(prompt, "Read the policy")))).json()
    assert "1 Purpose" in json.dumps(page) and "Section 1 of" in json.dumps(page)

    # A new version: everyone owes an acknowledgement, and sees what changed.
    text = EXAMPLE_POLICY_PATH.read_text().replace("is reviewed at least once a year", "is reviewed every six months")
    text += "\n## 18. Contact\n\n18.1. Ask the GenAI governance board.\n"
    await bot.services.policies.publish(label="2.0", text=text, source_name="p.md", published_by="tester")
    stale = await (await bot.post(card_action(connector, "policy.acknowledge", confirm))).json()
    stale_text = json.dumps(stale)
    assert "A newer version of the policy has been published" in stale_text
    assert "Section 16 Review: changed" in stale_text and "Section 18 Contact: added" in stale_text
    assert "Section 5 Roles" not in stale_text  # only what changed
    new_confirm = button_data(stale["value"], "I have read and understood the policy")
    done = await (await bot.post(card_action(connector, "policy.acknowledge", new_confirm))).json()
    assert "Recorded: version 2.0" in json.dumps(done)

    before = len(connector.activities())
    await bot.post(message(connector, "my status"))
    status = (await connector.wait_for(before + 1))[-1]
    assert "version 2.0 on" in json.dumps(status) and "Up to date" in json.dumps(status)


async def test_report_card_for_governance_members_only(bot, connector):
    for user in ("aad-a", "aad-b", "aad-c"):
        await bot.post(message(connector, "hi", user=user, conversation_id=f"a:{user}"))
    version = await bot.services.policies.current()
    await bot.services.acknowledgements.record(user_id="aad-a", user_name="A", version=version, conversation_id="a:aad-a")
    channel = activity("message-channel", connector, text="<at>Test Bot</at> report", user=GOV)
    before = len(await connector.wait_for(9))
    await bot.post(channel)
    report = (await connector.wait_for(before + 1))[-1]["attachments"][0]["content"]
    donut = next(e for e in report["body"] if e["type"] == "Chart.Donut")
    assert [(d["legend"], d["value"]) for d in donut["data"]] == [("Acknowledged", 1), ("Outstanding", 2)]
    assert "1 of 3" in json.dumps(report)

    await bot.post(activity("message-channel", connector, text="<at>Test Bot</at> report", user="aad-b"))
    refused = (await connector.wait_for(before + 2))[-1]
    assert "for the GenAI governance team" in refused["text"]


async def test_csv_export(bot, connector, tmp_path):
    for user in ("aad-a", "aad-b"):
        await bot.post(message(connector, "hi", user=user, conversation_id=f"a:{user}"))
    version = await bot.services.policies.current()
    await bot.services.acknowledgements.record(user_id="aad-b", user_name="User aad-b", version=version, conversation_id=None)
    out = tmp_path / "acks.csv"
    code, stdout, _ = await run_cli_async("report", "acknowledgements", "--csv", str(out), env={"DATABASE_URL": bot.database_url})
    assert code == 0 and "1 of 2 known people acknowledged" in stdout
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["user_id", "name", "latest_version", "acknowledged_at", "current_acknowledged"]
    by_user = {r["user_id"]: r for r in rows}
    assert by_user["aad-b"]["current_acknowledged"] == "true" and by_user["aad-b"]["latest_version"] == "example-policy-initial"
    assert by_user["aad-a"]["current_acknowledged"] == "false" and by_user["aad-a"]["acknowledged_at"] == ""
    acknowledged_at = datetime.fromisoformat(by_user["aad-b"]["acknowledged_at"])  # with its zone, for auditors
    assert acknowledged_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - acknowledged_at) < timedelta(minutes=5)


async def test_reminder_round_survives_429_and_a_restart_and_reminds_each_person_once(bot, connector):
    users = [f"aad-r{n:02d}" for n in range(30)]
    for user in users:
        await bot.post(message(connector, "hi", user=user, conversation_id=f"a:{user}"))
    version = await bot.services.policies.current()
    for user in users[:5]:  # these five are up to date: no reminder
        await bot.services.acknowledgements.record(user_id=user, user_name=user, version=version, conversation_id=None)
    connector.requests.clear()
    connector.faults = [(429, {"Retry-After": "0.5"})]
    connector.delay = 0.05
    env = {"DATABASE_URL": bot.database_url, "OUTBOX_BASE_DELAY_SECONDS": "0.05", "OUTBOX_CLAIM_SECONDS": "3", "CONNECTOR_TIMEOUT_SECONDS": "1",
           "RATE_PER_CONVERSATION": "7", "RATE_PER_TENANT": "50"}

    first = await asyncio.create_subprocess_exec(str(BIN), "remind", "--round", "test-round", env={**os.environ, **env},
                                                 stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    while len(connector.activities()) < 8:  # let it get part of the way, then kill it
        await asyncio.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    await asyncio.sleep(0.2)  # requests already on the wire still arrive
    before_kill = Counter(r.path.split("/")[3] for r in connector.requests
                          if r.method == "POST" and "_fault" not in (r.body or {}))
    sent_before_kill = sum(before_kill.values())
    assert sent_before_kill < 25, "the round finished before the kill; it tested nothing"

    code, stdout, _ = await run_cli_async("remind", "--round", "test-round", env=env)
    assert code == 0, stdout
    assert "round test-round: sent 25, failed 0" in stdout
    reminded = Counter(r.path.split("/")[3] for r in connector.requests
                       if r.method == "POST" and "_fault" not in (r.body or {}) and "Reminder:" in json.dumps(r.body))
    assert set(reminded) == {f"a:{u}" for u in users[5:]}
    # The one duplicate allowed: a message Teams accepted in the instant before the kill, before it was recorded.
    assert max(reminded.values()) <= 2
    assert all(before_kill[conversation] for conversation, n in reminded.items() if n == 2)
    assert any(r.body.get("_fault") == 429 for r in connector.requests)

    code, stdout, _ = await run_cli_async("remind", "--round", "test-round", env=env)  # same round again: nobody twice
    assert "sent 25, failed 0, skipped 25" in stdout
    assert sum(1 for r in connector.requests if "Reminder:" in json.dumps(r.body or {})) == sum(reminded.values())


async def test_publishing_a_new_version_asks_everyone_again(bot, connector, tmp_path):
    for user in ("aad-p1", "aad-p2"):
        await bot.post(message(connector, "hi", user=user, conversation_id=f"a:{user}"))
    await bot.settled()  # welcome, acknowledgement prompt and answer for each
    before = len(connector.activities())
    policy = tmp_path / "policy-v2.md"
    policy.write_text(EXAMPLE_POLICY_PATH.read_text().replace("## 16. Review", "## 16. Review and updates"))
    code, stdout, stderr = await run_cli_async("policy", "publish", str(policy), "--version", "2.0",
                                         env={"DATABASE_URL": bot.database_url})
    assert code == 0 and "asked 2 people to acknowledge it" in stdout, stderr
    bot.services.deliver_soon()
    await connector.wait_for(before + 2, timeout=10)
    asked = [r for r in connector.requests if "version **2.0**" in json.dumps(r.body or {})]
    assert sorted(r.path.split("/")[3] for r in asked) == ["a:aad-p1", "a:aad-p2"]
