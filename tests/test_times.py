"""Times in the organisation's zone (TIMEZONE): typed and shown as people write them, localised by Teams on cards."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from contextlib import AsyncExitStack
from support.activities import card_action, channel_message, message
from support.bots import make_settings, running_bot
from support.connector import posted_to
from support.activities import GOOD_REPORT

STAFF = "aad-staff"
from support.processes import chat

ADMIN, GOV, DPO = "aad-admin", "aad-gov", "aad-dpo"
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30 all year: the tests do not depend on the season


@pytest.fixture
async def bot(tmp_path):
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", timezone="Asia/Kolkata", admin_ids=ADMIN,
                             governance_ids=GOV, dpo_ids=DPO, outbox_base_delay=0.05)
    runner = AsyncExitStack()
    running = await runner.enter_async_context(running_bot(settings))
    yield running
    await runner.aclose()


def stamps(text: str, name: str = "DATE") -> list[datetime]:
    return [datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            for s in re.findall(name + r"\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", text)]


def as_of(card: dict) -> datetime:
    """When the card's "time left" was worked out."""
    [line] = [t for t in re.findall(r'"text": "(As of [^"]*)"', json.dumps(card))]
    assert re.search(r"\}\}: 7[12] h \d+ min left\.$", line), line
    return stamps(line, "TIME")[0]


def fact(card: dict, title: str) -> str:
    return next(f["value"] for e in card["body"] if e["type"] == "FactSet" for f in e["facts"] if f["title"] == title)


async def test_the_form_offers_the_time_in_the_organisations_zone_and_reads_it_there(bot, connector):
    await bot.post(message(connector, "report incident", user=STAFF, conversation_id="a:staff"))
    form = await connector.wait_for_text("Report an AI concern", conversation="a:staff")
    inputs = {e["id"]: e.get("value") for e in form["attachments"][0]["content"]["body"] if e.get("id")}
    offered = datetime.strptime(inputs["occurred_at"], "%Y-%m-%d %H:%M").replace(tzinfo=KOLKATA)
    assert abs(offered - datetime.now(timezone.utc)) < timedelta(minutes=2)

    receipt = await (await bot.post(card_action(connector, "incident.submit", {**GOOD_REPORT, "occurred_at": "2026-11-20 09:30"},
                                                user=STAFF, conversation_id="a:staff"))).json()
    happened = fact(receipt["value"], "Happened")
    # 09:30 in Kolkata is 04:00 UTC; the card leaves Teams to show it in each viewer's zone.
    assert happened == "{{DATE(2026-11-20T04:00:00Z, SHORT)}} at {{TIME(2026-11-20T04:00:00Z)}}"


async def test_the_ico_deadline_is_the_deadline_and_the_time_left_is_recomputed_on_refresh(bot, connector):
    connector.members = [{"id": f"29:{GOV}", "aadObjectId": GOV}]
    await bot.post(channel_message(connector, "register governance", "19:gov@thread.tacv2", user=ADMIN))
    await bot.post(card_action(connector, "incident.submit", GOOD_REPORT, user=STAFF, conversation_id="a:staff"))
    await bot.settled()
    card = posted_to(connector, "19:gov@thread.tacv2")[-1]["attachments"][0]["content"]
    text = json.dumps(card)
    [reported] = stamps(fact(card, "Reported"))
    assert f"must be told by **{{{{DATE({(reported + timedelta(hours=72)):%Y-%m-%dT%H:%M:%SZ}, SHORT)}}}}" in text
    drawn = as_of(card)
    await asyncio.sleep(1.1)
    refreshed = await (await bot.post(card_action(connector, "incident.refresh", card["refresh"]["action"]["data"],
                                                  user=GOV, channel=True))).json()
    assert as_of(refreshed["value"]) > drawn


async def test_the_dpo_is_told_in_plain_text_with_a_summary_and_the_time_in_the_zone(bot, connector):
    await bot.post(message(connector, "hi", user=DPO, conversation_id="a:dpo"))
    await bot.settled()
    await bot.post(card_action(connector, "incident.submit", GOOD_REPORT, user=STAFF, conversation_id="a:staff"))
    await bot.settled()
    told = next(a for a in posted_to(connector, "a:dpo") if "personal data breach" in a.get("text", ""))
    assert "**" not in told["text"] and told["summary"].startswith("Possible personal data breach: INC-")
    assert re.search(r"within 72 hours of \w{3} \d{1,2} \w{3} 20\d\d, \d\d:\d\d IST\.", told["text"]), told["text"]


def test_the_terminal_chat_shows_card_times_as_people_write_them(tmp_path):
    out = chat(f"sqlite:///{tmp_path}/b.db",
               ["report incident", "1", "A summary went to the wrong team", "Copilot", "2026-11-20 09:30", "no",
                "other", "low", "no"], TIMEZONE="Asia/Kolkata")
    assert "Happened: Fri 20 Nov 2026, 09:30" in out
    assert "{{" not in out
