"""Incident reports end to end over HTTP: form, commit-before-receipt, routing, triage, and delivery that survives faults."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from support.activities import GOOD_REPORT, card_action, channel_message, message
from support.bots import make_settings, refusals, running_bot, typed_in_own_chat
from support.connector import posted_to
from support.processes import chat
from storage.models import AuditRow, IncidentRow, OutboxRow

ADMIN, GOV, SEC, DPO, STAFF, OUTSIDER = "aad-admin", "aad-gov", "aad-sec", "aad-dpo", "aad-staff", "aad-outsider"


@pytest.fixture
def bot_settings():
    return dict(admin_ids=ADMIN, governance_ids=GOV, security_ids=SEC, dpo_ids=DPO, outbox_base_delay=0.05,
                connector_timeout=1.0)


async def set_up_routing(bot, connector) -> None:
    connector.members = [{"id": f"29:{user}", "aadObjectId": user} for user in (GOV, SEC, "aad-someone-else")]
    await bot.post(channel_message(connector, "register governance", "19:gov@thread.tacv2", user=ADMIN))
    await bot.post(channel_message(connector, "register security", "19:sec@thread.tacv2", user=ADMIN))
    await bot.post(message(connector, "help", user=DPO, conversation_id="a:dpo"))
    await bot.post(message(connector, "help", user=STAFF, conversation_id="a:staff"))
    await bot.settled()  # two confirmations; welcome, acknowledgement prompt and help for each of two people
    assert "this channel is now where **governance** cards are posted" in json.dumps(connector.activities())
    connector.requests.clear()


async def submit(bot, connector, values: dict, user: str = STAFF) -> dict:
    response = await bot.post(card_action(connector, "incident.submit", values, user=user, conversation_id="a:staff"))
    assert response.status == 200
    return await response.json()


async def test_invalid_report_comes_back_with_everything_typed_and_each_problem_named(bot, connector):
    typed = {"description": "", "tool_name": "Some chatbot", "occurred_at": "last tuesday",
             "personal_data": "maybe", "category": "data_exposed", "severity": "high", "anonymous": "true"}
    body = await submit(bot, connector, typed)
    card = json.dumps(body["value"])
    assert "Please say what happened." in card
    assert "YYYY-MM-DD HH:MM" in card and "Please choose one of the options listed." in card
    inputs = {e["id"]: e.get("value") for e in body["value"]["body"] if e.get("id")}
    assert inputs["tool_name"] == "Some chatbot" and inputs["occurred_at"] == "last tuesday"
    assert inputs["category"] == "data_exposed" and inputs["anonymous"] == "true"
    async with bot.services.db.sessions() as session:
        assert (await session.execute(select(IncidentRow))).first() is None


async def test_report_is_saved_routed_to_both_teams_and_the_dpo_and_triaged(bot, connector):
    await set_up_routing(bot, connector)
    body = await submit(bot, connector, GOOD_REPORT)
    receipt = json.dumps(body["value"])
    assert "Report received: INC-2026-0001" in receipt or "Report received: INC-" in receipt
    reference = body["value"]["body"][0]["text"].split(": ")[1]
    async with bot.services.db.sessions() as session:  # committed before the reporter was told
        assert (await session.execute(select(IncidentRow.reference))).scalar() == reference

    await bot.settled()
    governance, security = posted_to(connector, "19:gov@thread.tacv2"), posted_to(connector, "19:sec@thread.tacv2")
    assert len(governance) == 1 and len(security) == 1
    triage = json.dumps(governance[0])
    assert "Possible personal data breach" in triage and "The Data Protection Officer has been told" in triage
    assert "User aad-staff" in triage  # not anonymous
    dpo = posted_to(connector, "a:dpo")
    assert len(dpo) == 1 and reference in dpo[0]["text"]

    # The channel card is read-only for everyone; Teams refreshes it to the members' view with buttons.
    channel_card = governance[0]["attachments"][0]["content"]
    assert "actions" not in channel_card
    assert channel_card["refresh"]["userIds"] == [f"29:{GOV}", f"29:{SEC}"]
    refresh = channel_card["refresh"]["action"]["data"]
    outsider_view = await (await bot.post(card_action(connector, "incident.refresh", refresh, user=OUTSIDER, channel=True))).json()
    assert "actions" not in outsider_view["value"]
    member_view = await (await bot.post(card_action(connector, "incident.refresh", refresh, user=GOV, channel=True))).json()
    # Only members may triage, whatever a card shows; a refusal changes nothing and is audited.
    card_data = next(a["data"] for a in member_view["value"]["actions"] if a["title"] == "Acknowledge")
    refused = await (await bot.post(card_action(connector, "incident.triage", card_data, user=OUTSIDER, channel=True))).json()
    assert "can't act on incident reports" in json.dumps(refused)

    response = await bot.post(card_action(connector, "incident.triage", card_data, user=GOV, channel=True))
    updated = await response.json()
    assert "Acknowledged" in json.dumps(updated["value"])
    await bot.settled()
    updates = [r for r in connector.requests if r.method == "PUT"]
    assert sorted(r.path.split("/")[3] for r in updates) == ["19:gov@thread.tacv2", "19:sec@thread.tacv2"]
    told = posted_to(connector, "a:staff")
    assert len(told) == 1 and "has been acknowledged" in told[0]["text"]

    # Teams retries the same click: nothing changes and nobody is told twice.
    again = await (await bot.post(card_action(connector, "incident.triage", card_data, user=GOV, channel=True))).json()
    assert "already been acknowledged" in json.dumps(again)
    await asyncio.sleep(0.5)
    assert len(posted_to(connector, "a:staff")) == 1

    # Two members resolve at the same moment: exactly one change is recorded.
    resolve = {**card_data, "action": "resolve", "version": 2, "note": "Summary withdrawn, team briefed."}
    results = await asyncio.gather(*[
        bot.post(card_action(connector, "incident.triage", resolve, user=user, channel=True)) for user in (GOV, SEC)
    ])
    texts = [json.dumps(await r.json()) for r in results]
    assert sum("Someone else updated this incident first" in t for t in texts) == 1
    async with bot.services.db.sessions() as session:
        row = (await session.execute(select(IncidentRow))).scalar_one()
        assert row.status == "resolved" and row.version == 3
        actions = [a for (a,) in await session.execute(select(AuditRow.action).order_by(AuditRow.id))]
    assert actions.count("incident.resolve") == 1 and "role.refused" in actions and "incident.reported" in actions
    assert await bot.services.audit.verify() is None

    mine = await bot.post(message(connector, "my reports", user=STAFF, conversation_id="a:staff"))
    assert mine.status == 200


async def test_anonymous_reports_do_not_name_the_reporter_on_triage_cards(bot, connector):
    await set_up_routing(bot, connector)
    await submit(bot, connector, {**GOOD_REPORT, "anonymous": "true", "personal_data": "no"})
    await bot.settled()
    triage = json.dumps(posted_to(connector, "19:gov@thread.tacv2")[0])
    assert "Anonymous" in triage and "aad-staff" not in triage
    async with bot.services.db.sessions() as session:
        assert (await session.execute(select(IncidentRow.reporter_id))).scalar() == STAFF  # kept, for the leads


async def test_every_notification_arrives_exactly_once_despite_500_429_and_a_hang(bot, connector):
    await set_up_routing(bot, connector)
    connector.faults = [(500, {}), (429, {"Retry-After": "0.3"}), (0, {}), (503, {})]  # 0: hangs past the 1 s timeout
    await submit(bot, connector, GOOD_REPORT)
    await bot.settled(timeout=30)
    assert [r.body["_fault"] for r in connector.requests if "_fault" in (r.body or {})] == [500, 429, 0, 503]
    await asyncio.sleep(1.0)
    governance, security = posted_to(connector, "19:gov@thread.tacv2"), posted_to(connector, "19:sec@thread.tacv2")
    dpo = posted_to(connector, "a:dpo")
    assert (len(governance), len(security), len(dpo)) == (1, 1, 1)
    async with bot.services.db.sessions() as session:
        statuses = [s for (s,) in await session.execute(select(OutboxRow.status).where(OutboxRow.key.like("incident:%")))]
    assert statuses == ["sent"] * 3


async def test_unreachable_teams_are_recorded_not_dropped(tmp_path, connector):
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", governance_ids=GOV, outbox_base_delay=0.05)
    async with running_bot(settings) as running:
        response = await running.post(card_action(connector, "incident.submit", GOOD_REPORT, user=STAFF))
        receipt = json.dumps(await response.json())
        assert "Report received" in receipt and "has been sent to" not in receipt
        assert ("I couldn't send it to the AI Board and the IT security team automatically: nobody "
                "there can be reached by this bot yet. Nothing you sent was lost. Please email ai-board@testshire.gov.uk "
                "quoting INC-") in receipt
        assert "I've sent it to" not in receipt  # the one governance member has never opened a chat with the bot
        assert "could not be told automatically" in receipt  # no DPO configured: said plainly
        failed = await running.services.outbox.entries("failed")
        assert {e.last_error for e in failed} == {
            "the bot has no chat with aad-gov yet: they must open it once in Teams",
            "no security channel is registered and no SECURITY_IDS are configured",
        }


async def test_only_admins_register_channels(bot, connector):
    await bot.post(channel_message(connector, "register governance", "19:x@thread.tacv2", user=STAFF))
    sent = await connector.wait_for(1)
    assert "Only administrators" in sent[0]["text"]
    assert await bot.services.channels.get("governance") is None


async def test_an_answer_about_reporting_offers_the_incident_form(bot, connector):
    await bot.post(message(connector, "Who do I tell if an AI tool shows me a file I shouldn't see?", user=STAFF,
                           conversation_id="a:staff"))
    answer = await connector.wait_for_text("13 Reporting concerns", conversation="a:staff")
    button = next(a for a in answer["attachments"][0]["content"]["actions"] if a["title"] == "Report an incident")
    response = await bot.post(card_action(connector, button["verb"], button["data"], user=STAFF, conversation_id="a:staff"))
    assert response.status == 200
    await connector.wait_for_text("Report an AI concern or incident", conversation="a:staff")


async def test_the_anonymous_switch_takes_only_a_clear_yes_or_no(bot, connector):
    for unclear in ("perhaps", "maybe not", "2"):
        body = await submit(bot, connector, {**GOOD_REPORT, "anonymous": unclear})
        card = json.dumps(body["value"])
        assert "Report received" not in card and "Please answer yes or no" in card, unclear
        inputs = {e["id"]: e.get("value") for e in body["value"]["body"] if e.get("id")}
        assert inputs["description"] == GOOD_REPORT["description"]  # nothing typed is lost
    async with bot.services.db.sessions() as session:
        assert (await session.execute(select(IncidentRow))).first() is None
    for clear, hidden in (("yes", True), ("No", False), ("true", True)):
        body = await submit(bot, connector, {**GOOD_REPORT, "anonymous": clear})
        assert "Report received" in json.dumps(body["value"]), clear
    async with bot.services.db.sessions() as session:
        assert [a for (a,) in await session.execute(select(IncidentRow.anonymous).order_by(IncidentRow.id))] == [True, False, True]


@pytest.mark.parametrize("typed", ["report incident Copilot", "report a breach Copilot"])
async def test_every_report_phrase_fills_in_the_tool_it_names(bot, connector, typed):
    await bot.post(message(connector, typed, user=STAFF, conversation_id="a:staff"))
    form = await connector.wait_for_text("Report an AI concern or incident", conversation="a:staff")
    inputs = {e["id"]: e.get("value") for e in form["attachments"][0]["content"]["body"] if e.get("id")}
    assert inputs["tool_name"] == "Copilot"


async def test_with_nobody_set_up_the_receipt_says_nothing_was_routed_and_whom_to_email(tmp_path, connector):
    async with running_bot(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")) as running:
        receipt = (await (await running.post(card_action(connector, "incident.submit", GOOD_REPORT, user=STAFF))).json())
        text = json.dumps(receipt)
        reference = receipt["value"]["body"][0]["text"].split(": ")[1]
        assert "has been sent" not in text and "I've sent it" not in text
        assert (f"I couldn't send it to the AI Board and the IT security team automatically: nobody there "
                f"can be reached by this bot yet. Nothing you sent was lost. Please email ai-board@testshire.gov.uk "
                f"quoting {reference}, so that they see it.") in text


async def test_the_receipt_names_the_channels_it_was_posted_in(bot, connector):
    await set_up_routing(bot, connector)
    receipt = json.dumps(await submit(bot, connector, GOOD_REPORT))
    assert ("I've sent it to the AI Board (in their Teams channel) and the IT security team "
            "(in their Teams channel), and I'll tell you here if Teams refuses to deliver it.") in receipt
    assert "couldn't send" not in receipt and "Please email" not in receipt


async def test_cards_name_the_configured_authority(bot, connector):
    await bot.post(message(connector, "report incident", user=STAFF, conversation_id="a:staff"))
    form = await connector.wait_for_text("Report an AI", conversation="a:staff")
    await bot.post(message(connector, "request tool", user=STAFF, conversation_id="a:staff"))
    request_form = await connector.wait_for_text("Request approval for an AI tool", conversation="a:staff")
    receipt = json.dumps(await submit(bot, connector, GOOD_REPORT))
    assert "Reports go straight to the AI Board and the IT security team" in json.dumps(form)
    assert "Tell the AI Board what you want to use" in json.dumps(request_form)
    for shown in (json.dumps(form), json.dumps(request_form), receipt):
        assert "governance authority" not in shown


async def reported(bot, connector) -> str:
    """A report routed to both teams' channels; its reference, once the cards are out and the log cleared."""
    await set_up_routing(bot, connector)
    reference = (await submit(bot, connector, GOOD_REPORT))["value"]["body"][0]["text"].split(": ")[1]
    await bot.settled()
    connector.requests.clear()
    return reference


def buttons(shown: dict) -> dict:
    return {a["title"]: a for a in shown["attachments"][0]["content"].get("actions", [])}


async def test_a_triage_member_opens_an_incident_by_its_reference_and_triages_on_that_copy(bot, connector):
    """The first card may be far up the channel (or in a terminal chat since restarted): typing the reference shows it
    again with the triage buttons, and acting there updates both channels' cards and tells the reporter."""
    reference = await reported(bot, connector)
    shown = await typed_in_own_chat(bot, connector, f"open incident {reference.lower()}", SEC)
    acknowledge = buttons(shown)["Acknowledge"]["data"]
    done = await (await bot.post(card_action(connector, "incident.triage", acknowledge, user=SEC,
                                             conversation_id=f"a:{SEC}"))).json()
    assert "Acknowledged" in json.dumps(done["value"])
    await bot.settled()
    updates = [r for r in connector.requests if r.method == "PUT"]
    assert sorted(r.path.split("/")[3] for r in updates) == ["19:gov@thread.tacv2", "19:sec@thread.tacv2"]
    assert "has been acknowledged" in posted_to(connector, "a:staff")[-1]["text"]


async def test_an_opened_resolved_incident_shows_its_outcome_without_the_triage_buttons(bot, connector):
    reference = await reported(bot, connector)
    resolve = {**buttons(await typed_in_own_chat(bot, connector, f"open incident {reference}", GOV))["Resolve"]["data"],
               "note": "Summary withdrawn, team briefed."}
    await bot.post(card_action(connector, "incident.triage", resolve, user=GOV, conversation_id=f"a:{GOV}"))
    shown = await typed_in_own_chat(bot, connector, f"open incident {reference}", SEC)
    assert "Summary withdrawn, team briefed." in json.dumps(shown)
    assert set(buttons(shown)) == {"Add note"}  # as a refreshed resolved card: a note may still be added


async def test_opening_an_incident_by_reference_is_refused_and_audited_for_anyone_else(bot, connector):
    reference = await reported(bot, connector)
    for user in (OUTSIDER, DPO):  # the DPO is told of a possible breach, but does not triage
        shown = json.dumps(await typed_in_own_chat(bot, connector, f"open incident {reference}", user))
        assert "can't act on incident reports" in shown and "Copilot" not in shown
    assert await refusals(bot) == [(user, f"incident:{reference}", {"action": "open"}) for user in (OUTSIDER, DPO)]


def test_a_restarted_terminal_chat_triages_a_waiting_incident_by_its_reference(tmp_path):
    """The terminal forgets its cards when it stops; the triage member opens the report again by its reference."""
    db_url, first = f"sqlite:///{tmp_path}/b.db", f"INC-{datetime.now(timezone.utc).year}-0001"
    chat(db_url, ["report incident", "1", "A summary went to the wrong team", "Copilot", "", "no", "other", "low", "no"],
         "--as", "carol", "--governance", "bob")
    out = chat(db_url, [f"open incident {first}", "1", "", ""], "--as", "bob", "--governance", "bob")
    assert f"AI incident {first}" in out and "[1] Acknowledge" in out and "Status: Acknowledged" in out
    assert "has been acknowledged by the triage team" in out.split("── sent to personal local-chat-carol ──")[1]
