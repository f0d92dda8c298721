"""Messages that had nowhere to go when they were written are routed again, and never marked sent when they were not.

Over HTTP with the fake connector, and through the `policy-bot outbox retry` command."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from contextlib import AsyncExitStack
from support.activities import card_action, channel_message, message
from support.bots import make_settings, running_bot
from support.connector import posted_to
from storage.models import OutboxRow
from support.activities import GOOD_REPORT

STAFF = "aad-staff"
from support.processes import run_cli as run

ADMIN, GOV = "aad-admin", "aad-gov"
CHANNEL = "19:gov@thread.tacv2"


@pytest.fixture
async def started(tmp_path):
    running = []

    async def start(**overrides):
        settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", admin_ids=ADMIN, outbox_base_delay=0.05,
                                 connector_timeout=1.0, **overrides)
        runner = AsyncExitStack()
        bot = await runner.enter_async_context(running_bot(settings))
        running.append((bot, runner))
        return bot

    yield start
    for bot, runner in running:
        await runner.aclose()


async def report(bot, connector) -> str:
    receipt = await (await bot.post(card_action(connector, "incident.submit", GOOD_REPORT, user=STAFF,
                                                conversation_id="a:staff"))).json()
    return receipt["value"]["body"][0]["text"].split(": ")[1]


async def failed_keys(bot) -> set[str]:
    return {e.key for e in await bot.services.outbox.entries("failed")}


async def test_registering_a_channel_posts_the_cards_that_were_waiting_for_it(started, connector):
    bot = await started()
    references = [await report(bot, connector) for _ in range(3)]
    assert {f"incident:{r}:card:governance" for r in references} <= await failed_keys(bot)
    connector.members = [{"id": f"29:{GOV}", "aadObjectId": GOV}]

    await bot.post(channel_message(connector, "register governance", CHANNEL, user=ADMIN))
    confirmation = await connector.wait_for_text("this channel is now where")
    assert "3 waiting incident cards are being posted here now." in confirmation["text"]
    await bot.settled()
    cards = [a["attachments"][0]["content"] for a in posted_to(connector, CHANNEL) if a.get("attachments")]
    assert sorted(c["body"][0]["text"].split(":")[0] for c in cards) == [f"AI incident {r}" for r in references]
    assert all("refresh" in c for c in cards)  # the channel's card, so Teams shows members their buttons
    assert not any(k.endswith(":card:governance") for k in await failed_keys(bot))
    assert {f"incident:{r}:card:security" for r in references} <= await failed_keys(bot)  # still nowhere to go


async def test_a_channel_registered_with_nothing_waiting_says_only_that(started, connector):
    bot = await started()
    await bot.post(channel_message(connector, "register security", CHANNEL, user=ADMIN))
    confirmation = await connector.wait_for_text("this channel is now where")
    assert confirmation["text"] == "Done: this channel is now where **security** cards are posted."


async def test_a_card_waiting_for_someone_goes_when_they_first_open_their_chat(started, connector):
    bot = await started(governance_ids=GOV)
    reference = await report(bot, connector)
    assert f"incident:{reference}:card:governance:{GOV}" in await failed_keys(bot)
    await bot.post(message(connector, "hi", user=GOV, conversation_id="a:gov"))
    await bot.settled()
    card = next(a["attachments"][0]["content"] for a in posted_to(connector, "a:gov")
                if reference in json.dumps(a) and a.get("attachments"))
    assert any(action["title"] == "Acknowledge" for action in card["actions"])  # their own view, with the buttons
    assert f"incident:{reference}:card:governance:{GOV}" not in await failed_keys(bot)


async def test_outbox_retry_routes_again_with_the_ids_set_since(started, connector, tmp_path):
    bot = await started()
    reference = await report(bot, connector)
    await bot.post(message(connector, "hi", user=GOV, conversation_id="a:gov"))
    await bot.settled()
    result = run("outbox", "retry", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "GOVERNANCE_IDS": GOV})
    assert result.returncode == 0, result.stderr
    assert "routed again: 1 that had nowhere to go (0 to channels, 1 to people 1:1)" in result.stdout
    assert ("still nowhere to go: 1 (no security channel is registered and no SECURITY_IDS are configured)"
            in result.stdout)
    await bot.settled()
    card = await connector.wait_for_text(f"AI incident {reference}", conversation="a:gov")
    assert any(action["title"] == "Acknowledge" for action in card["attachments"][0]["content"]["actions"])


async def test_a_worker_never_marks_a_message_with_no_address_sent(started, connector):
    bot = await started()
    reference = await report(bot, connector)
    async with bot.services.db.sessions.begin() as session:  # as an older `outbox retry` left them: pending
        await session.execute(update(OutboxRow).where(OutboxRow.status == "failed").values(status="pending"))
    bot.services.deliver_soon()
    await bot.settled()
    entries = {e.key: e for e in await bot.services.outbox.entries()}
    for team in ("governance", "security"):
        entry = entries[f"incident:{reference}:card:{team}"]
        assert entry.status == "failed" and f"no {team} channel is registered" in entry.last_error
    assert not any("/v3/conversations/unreachable" in r.path for r in connector.requests)


async def test_a_team_that_is_now_people_waits_for_each_ones_first_chat(started, connector, tmp_path):
    bot = await started()
    reference = await report(bot, connector)
    result = run("outbox", "retry", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "GOVERNANCE_IDS": GOV})
    assert result.returncode == 0, result.stderr
    assert "waiting for someone's first chat with the bot: 1" in result.stdout
    assert f"incident:{reference}:card:governance:{GOV}" in await failed_keys(bot)
    assert f"incident:{reference}:card:governance" not in await failed_keys(bot)


async def test_a_restart_with_the_ids_set_routes_what_was_waiting(started, connector):
    bot = await started()
    reference = await report(bot, connector)
    await bot.post(message(connector, "hi", user=GOV, conversation_id="a:gov"))
    await bot.settled()
    restarted = await started(governance_ids=GOV)  # same database, GOVERNANCE_IDS set since
    await restarted.settled()
    card = await connector.wait_for_text(f"AI incident {reference}", conversation="a:gov")
    assert any(action["title"] == "Acknowledge" for action in card["attachments"][0]["content"]["actions"])


async def test_registering_routes_waiting_cards_on_sqlite_and_postgresql(database_url, connector):
    runner = AsyncExitStack()
    bot = await runner.enter_async_context(running_bot(make_settings(database_url, admin_ids=ADMIN, governance_ids=GOV, outbox_base_delay=0.05)))
    try:
        reference = await report(bot, connector)  # GOV has no chat yet: their card waits
        await bot.post(channel_message(connector, "register governance", CHANNEL, user=ADMIN))
        confirmation = await connector.wait_for_text("this channel is now where")
        assert "1 waiting incident card is being posted here now." in confirmation["text"]
        await bot.settled()
        assert any(f"AI incident {reference}" in json.dumps(a) for a in posted_to(connector, CHANNEL))
        assert f"incident:{reference}:card:governance:{GOV}" not in await failed_keys(bot)
    finally:
        await runner.aclose()
