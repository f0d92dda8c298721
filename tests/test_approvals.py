"""Tool approval requests end to end over HTTP: form, approvers' card, Universal Actions, decisions, register and audit."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from support.activities import card_action, channel_message, message
from support.bots import make_settings, running_bot, sqlite_url
from support.connector import posted_to, updated_in
from storage.models import ApprovalRequestRow, AuditRow

ADMIN, APP1, APP2, STAFF, OUTSIDER = "aad-admin", "aad-app1", "aad-app2", "aad-staff", "aad-outsider"
GOV = "19:gov@thread.tacv2"
GOOD_REQUEST = {
    "tool_name": "Otter.ai", "purpose": "Transcribe team meetings so minutes take less time.",
    "data_classification": "personal", "data_description": "Names and voices of colleagues in internal meetings.",
    "expected_output": "A transcript and a summary of actions.", "output_use": "Minutes shared with the team after review.",
    "category": "public", "vendor_url": "https://otter.ai",
}
ROSTER = [{"id": f"29:{APP1}", "aadObjectId": APP1, "name": "App One"},
          {"id": f"29:{APP2}", "aadObjectId": APP2, "name": "App Two"},
          {"id": "29:someone", "aadObjectId": "aad-someone", "name": "Someone"}]


@pytest.fixture
def bot_settings():
    return dict(admin_ids=ADMIN, approver_ids=f"{APP1},{APP2}", outbox_base_delay=0.05, connector_timeout=1.0)


async def invoke(bot, connector, verb: str, data: dict, user: str, **changes) -> dict:
    response = await bot.post(card_action(connector, verb, data, user=user, **changes))
    assert response.status == 200, await response.text()
    return (await response.json())["value"]


def inputs_of(card: dict) -> dict:
    return {e["id"]: e.get("value") for e in card["body"] if e.get("id")}


def actions_of(card: dict) -> dict:
    return {a["title"]: a for a in card.get("actions", [])}


def execute_data(action: dict, **typed) -> dict:
    """What Teams sends for a button: its data plus the inputs (for a ShowCard, the button inside it)."""
    if action["type"] == "Action.ShowCard":
        action = action["card"]["actions"][0]
    return {**action["data"], **typed}


async def rows(bot) -> list:
    async with bot.services.db.sessions() as session:
        return list((await session.execute(select(ApprovalRequestRow))).scalars())


async def audit_actions(bot) -> list[str]:
    async with bot.services.db.sessions() as session:
        return [a for (a,) in await session.execute(select(AuditRow.action).order_by(AuditRow.id))]


async def test_invalid_request_comes_back_with_everything_typed_and_each_problem_named(bot, connector):
    typed = {**GOOD_REQUEST, "purpose": "   ", "data_classification": "top secret", "vendor_url": "otter dot ai",
             "expected_output": "x" * 2001}
    card = await invoke(bot, connector, "approval.submit", typed, STAFF)
    text = json.dumps(card)
    assert "Please say what you want to use it for." in text
    assert "Please choose one of the options listed." in text
    assert "Please give a web address starting with https://" in text
    assert "Please keep this under 2000 characters" in text
    values = inputs_of(card)
    assert values["tool_name"] == "Otter.ai" and values["vendor_url"] == "otter dot ai"
    assert values["data_description"] == GOOD_REQUEST["data_description"] and values["category"] == "public"
    assert values["expected_output"] == "x" * 2001  # kept even though too long, so nothing is lost
    assert await rows(bot) == []


async def test_request_decided_in_a_channel_with_universal_actions(bot, connector):
    connector.members = ROSTER
    await bot.post(channel_message(connector, "register governance", GOV, user=ADMIN))
    response = await bot.post(message(connector, "request tool Otter.ai", user=STAFF, conversation_id="a:staff"))
    assert response.status == 200
    form = (await connector.wait_for_text("Request approval for an AI tool", conversation="a:staff"))["attachments"][0]["content"]
    assert inputs_of(form)["tool_name"] == "Otter.ai"
    await bot.settled()
    connector.requests.clear()

    receipt = await invoke(bot, connector, "approval.submit", GOOD_REQUEST, STAFF, conversation_id="a:staff")
    reference = f"REQ-{datetime.now(timezone.utc).year}-0001"
    assert receipt["body"][0]["text"] == f"Request received: {reference}"
    assert "I've sent it to the approvers at the AI Board (in their Teams channel)" in json.dumps(receipt)
    assert [r.status for r in await rows(bot)] == ["pending"]  # committed before the receipt

    await bot.settled()
    [posted] = posted_to(connector, GOV)
    channel_card = posted["attachments"][0]["content"]
    text = json.dumps(channel_card)
    assert "DPIA required" in text and "EqIA may be required" in text and "User aad-staff" in text
    assert channel_card.get("actions") is None  # everyone sees a read-only card...
    assert channel_card["refresh"]["userIds"] == [f"29:{APP1}", f"29:{APP2}"]  # ...approvers get theirs on refresh
    assert channel_card["refresh"]["action"]["verb"] == "approval.refresh"

    refresh_data = channel_card["refresh"]["action"]["data"]
    approver_view = await invoke(bot, connector, "approval.refresh", refresh_data, APP1, channel=True)
    assert set(actions_of(approver_view)) == {"Approve", "Approve with conditions", "Reject", "Ask for more information"}
    for user in (OUTSIDER, STAFF):
        assert "actions" not in await invoke(bot, connector, "approval.refresh", refresh_data, user, channel=True)

    buttons = actions_of(approver_view)
    refused = await invoke(bot, connector, "approval.decide", execute_data(buttons["Approve"]), OUTSIDER, channel=True)
    assert "You are not an approver for AI tool requests" in json.dumps(refused)
    assert [r.status for r in await rows(bot)] == ["pending"]

    # Ask for more information: the requester gets a question card; the channel card shows the question.
    asked = await invoke(bot, connector, "approval.decide",
                         execute_data(buttons["Ask for more information"], question="Will residents be recorded?"),
                         APP1, channel=True)
    assert "Will residents be recorded?" in json.dumps(asked)
    question = await connector.wait_for_text("Will residents be recorded?", conversation="a:staff")
    question_card = question["attachments"][0]["content"]
    assert "Will residents be recorded?" in json.dumps(question_card)
    empty = await invoke(bot, connector, "approval.answer", execute_data(actions_of(question_card)["Send answer"], answer=" "),
                         STAFF, conversation_id="a:staff")
    assert "Please write your answer." in json.dumps(empty)
    answered = await invoke(bot, connector, "approval.answer",
                            execute_data(actions_of(question_card)["Send answer"], answer="No, internal meetings only."),
                            STAFF, conversation_id="a:staff")
    assert "Answer sent" in json.dumps(answered)
    await connector.wait_for_text("No, internal meetings only.", conversation=GOV)  # the channel card, updated
    assert [r.status for r in await rows(bot)] == ["pending"]

    # Two approvers decide at the same moment from the refreshed card: exactly one decision is recorded.
    fresh = actions_of(await invoke(bot, connector, "approval.refresh", refresh_data, APP1, channel=True))
    approve = execute_data(fresh["Approve with conditions"], conditions="Internal meetings only; delete audio after 30 days.")
    reject = execute_data(fresh["Reject"], reason="Use Teams' own transcription instead.")
    connector.requests.clear()
    results = await asyncio.gather(
        bot.post(card_action(connector, "approval.decide", approve, user=APP1, channel=True)),
        bot.post(card_action(connector, "approval.decide", reject, user=APP2, channel=True)),
    )
    cards = [json.dumps((await r.json())["value"]) for r in results]
    assert all(r.status == 200 for r in results)
    assert sum("Already " in c for c in cards) == 1
    [row] = await rows(bot)
    assert row.status in ("approved_with_conditions", "rejected") and row.version == 4
    winner, winning_data = (APP1, approve) if row.status == "approved_with_conditions" else (APP2, reject)
    assert f"by User {winner} at" in next(c for c in cards if "Already " in c)

    # Teams retries the winner's invoke: no second decision, no second message.
    await bot.settled()
    before = len(connector.activities())
    again = await invoke(bot, connector, "approval.decide", winning_data, winner, channel=True)
    assert "Already" not in json.dumps(again) and "actions" not in again
    await asyncio.sleep(0.5)
    assert len(connector.activities()) == before
    final_channel = updated_in(connector, GOV)[-1]["attachments"][0]["content"]
    assert "refresh" not in final_channel and "actions" not in final_channel
    told = posted_to(connector, "a:staff")
    assert len(told) == 1 and reference in told[0]["text"]

    actions = await audit_actions(bot)
    decided = "approval.approve_conditions" if winner == APP1 else "approval.reject"
    assert actions.count(decided) == 1 and actions.count("approval.ask") == 1 and "approval.answered" in actions
    assert "approval.requested" in actions and "role.refused" in actions
    assert await bot.services.audit.verify() is None
    tools = {t.name: t for t in await bot.services.tools.all()}
    if winner == APP1:
        otter = tools["Otter.ai"]
        assert otter.status == "approved with conditions" and otter.approved_by == f"User {APP1}"
        assert "delete audio after 30 days" in otter.conditions
        today = datetime.now(timezone.utc).date()
        assert otter.review_due == date(today.year + 1, today.month, min(today.day, 28 if today.month == 2 else today.day))
        assert "register.updated" in actions
    else:
        assert "Otter.ai" not in tools

    count = len(connector.activities())
    mine = await bot.post(message(connector, "my requests", user=STAFF, conversation_id="a:staff"))
    assert mine.status == 200
    listing = json.dumps((await connector.wait_for(count + 1))[-1])
    assert reference in listing and ("Approved with conditions" in listing or "Rejected" in listing)


async def test_approval_adds_the_tool_to_the_register_and_answers_change(bot, connector):
    await bot.post(message(connector, "hello", user=APP1, conversation_id="a:app1"))
    await bot.post(message(connector, "Can I use Otter.ai for minutes?", user=STAFF, conversation_id="a:staff"))
    answer = (await connector.wait_for_text("Request approval for Otter.ai", conversation="a:staff"))["attachments"][0]["content"]
    button = next(a for a in answer["actions"] if a["title"].startswith("Request approval for"))
    assert button["data"]["tool_name"] == "Otter.ai"
    await invoke(bot, connector, button["verb"], button["data"], STAFF, conversation_id="a:staff")
    await connector.wait_for_text("Request approval for an AI tool", conversation="a:staff")
    await bot.settled()
    connector.requests.clear()

    await invoke(bot, connector, "approval.submit", {**GOOD_REQUEST, "data_classification": "official"}, STAFF,
                 conversation_id="a:staff")
    await bot.settled()
    # No channel registered: each approver gets the card 1:1, with the buttons on it.
    [card_1to1] = posted_to(connector, "a:app1")
    approver_card = card_1to1["attachments"][0]["content"]
    assert "Approve" in actions_of(approver_card)
    failed = await bot.services.outbox.entries("failed")
    assert [e.last_error for e in failed] == ["the bot has no chat with aad-app2 yet: they must open it once in Teams"]

    decided = await invoke(bot, connector, "approval.decide", execute_data(actions_of(approver_card)["Approve"]), APP1)
    assert "Approved" in json.dumps(decided)
    await bot.settled()
    assert len(updated_in(connector, "a:app1")) == 1
    assert "approved" in posted_to(connector, "a:staff")[-1]["text"]
    otter = {t.name: t for t in await bot.services.tools.all()}["Otter.ai"]
    assert otter.status == "approved" and otter.category == "public tool"

    connector.requests.clear()
    await bot.post(message(connector, "Can I use Otter.ai for minutes?", user=STAFF, conversation_id="a:staff"))
    [reply] = await connector.wait_for(1)
    assert "**Otter.ai** is approved" in reply["text"]


async def test_an_approver_cannot_decide_their_own_request(bot, connector):
    await bot.post(message(connector, "hello", user=APP2, conversation_id="a:app2"))
    await invoke(bot, connector, "approval.submit", GOOD_REQUEST, APP1, conversation_id="a:app1")
    cards = {conversation: (await connector.wait_for_text("AI tool request", conversation=conversation))
             ["attachments"][0]["content"] for conversation in ("a:app1", "a:app2")}
    assert "actions" not in cards["a:app1"]  # the requester, although an approver, gets the read-only card
    data = execute_data(actions_of(cards["a:app2"])["Approve"])
    refused = await invoke(bot, connector, "approval.decide", data, APP1)
    assert "You cannot decide your own request" in json.dumps(refused)
    forged = await invoke(bot, connector, "approval.decide", {**data, "action": "approve", "reference": "REQ-1999-0001"}, APP2)
    assert "There is no tool request REQ-1999-0001" in json.dumps(forged)
    unknown = await invoke(bot, connector, "approval.decide", {**data, "action": "delete"}, APP2)
    assert "not an action I know" in json.dumps(unknown)
    [row] = await rows(bot)
    assert row.status == "pending" and row.version == 1
    assert (await audit_actions(bot)).count("role.refused") == 1


async def test_a_restart_between_form_and_submission_loses_nothing(settings, connector):
    async with running_bot(settings) as first:
        await first.post(message(connector, "request tool", user=STAFF, conversation_id="a:staff"))
        await connector.wait_for(2)

    async with running_bot(settings) as second:
        receipt = await invoke(second, connector, "approval.submit", GOOD_REQUEST, STAFF, conversation_id="a:staff")
        assert receipt["body"][0]["text"].startswith("Request received: REQ-")
        assert [r.tool_name for r in await rows(second)] == ["Otter.ai"]
        await second.post(message(connector, "my status", user=STAFF, conversation_id="a:staff"))
        status = await connector.wait_for_text("Tool requests awaiting a decision", conversation="a:staff")
        assert receipt["body"][0]["text"].split(": ")[1] in json.dumps(status)


async def test_the_receipt_says_which_approvers_were_sent_the_request_and_which_could_not_be(bot, connector):
    await bot.post(message(connector, "hello", user=APP1, conversation_id="a:app1"))  # APP2 never opened the chat
    await bot.settled()
    receipt = json.dumps(await invoke(bot, connector, "approval.submit", GOOD_REQUEST, STAFF, conversation_id="a:staff"))
    assert ("I've sent it to the approvers at the AI Board (1 person of 2, each in their own Teams chat)"
            in receipt)
    assert "Some people in the approvers at the AI Board haven't opened a chat" in receipt
    assert "please email ai-board@testshire.gov.uk quoting REQ-" in receipt


async def test_with_no_approvers_the_receipt_says_the_request_went_nowhere_and_whom_to_email(tmp_path, connector, bot_settings):
    async with running_bot(make_settings(sqlite_url(tmp_path), **{**bot_settings, "approver_ids": ""})) as running:
        receipt = json.dumps(await invoke(running, connector, "approval.submit", GOOD_REQUEST, STAFF))
        assert "I've sent it" not in receipt and "is with the" not in receipt
        assert ("I couldn't send it to the approvers at the AI Board automatically: nobody there "
                "can be reached by this bot yet. Nothing you sent was lost. Please email ai-board@testshire.gov.uk quoting REQ-"
                in receipt)
