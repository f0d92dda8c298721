"""Tool approval requests end to end over HTTP: form, approvers' card, Universal Actions, decisions, register and audit."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from support.activities import card_action, channel_message, message
from support.bots import make_settings, refusals, running_bot, sqlite_url, typed_in_own_chat
from support.connector import posted_to, updated_in
from support.processes import chat
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


@dataclass(frozen=True)
class Submitted:
    reference: str
    channel_card: dict  # as posted in the governance channel
    refresh: dict       # the data of the card's refresh action


@pytest.fixture
async def submitted(bot, connector) -> Submitted:
    """STAFF's request for Otter.ai, posted in the registered governance channel; the connector's log cleared."""
    connector.members = ROSTER
    await bot.post(channel_message(connector, "register governance", GOV, user=ADMIN))
    receipt = await invoke(bot, connector, "approval.submit", GOOD_REQUEST, STAFF, conversation_id="a:staff")
    await bot.settled()
    [posted] = posted_to(connector, GOV)
    card = posted["attachments"][0]["content"]
    connector.requests.clear()
    return Submitted(receipt["body"][0]["text"].split(": ")[1], card, card["refresh"]["action"]["data"])


async def approver_buttons(bot, connector, submitted: Submitted, user: str = APP1) -> dict:
    """The buttons on the channel card as it refreshes for `user`."""
    return actions_of(await invoke(bot, connector, "approval.refresh", submitted.refresh, user, channel=True))


async def test_the_form_comes_filled_in_and_the_receipt_comes_after_the_commit(bot, connector):
    connector.members = ROSTER
    await bot.post(channel_message(connector, "register governance", GOV, user=ADMIN))
    response = await bot.post(message(connector, "request tool Otter.ai", user=STAFF, conversation_id="a:staff"))
    assert response.status == 200
    form = (await connector.wait_for_text("Request approval for an AI tool", conversation="a:staff"))["attachments"][0]["content"]
    assert inputs_of(form)["tool_name"] == "Otter.ai"

    receipt = await invoke(bot, connector, "approval.submit", GOOD_REQUEST, STAFF, conversation_id="a:staff")
    assert receipt["body"][0]["text"] == f"Request received: REQ-{datetime.now(timezone.utc).year}-0001"
    assert "I've sent it to the approvers at the AI Board (in their Teams channel)" in json.dumps(receipt)
    assert [r.status for r in await rows(bot)] == ["pending"]  # committed before the receipt


async def test_the_channel_card_is_read_only_and_refreshes_for_the_approvers_on_the_roster(submitted):
    card = submitted.channel_card
    text = json.dumps(card)
    assert "DPIA required" in text and "EqIA may be required" in text and "User aad-staff" in text
    assert card.get("actions") is None  # everyone sees a read-only card...
    assert card["refresh"]["userIds"] == [f"29:{APP1}", f"29:{APP2}"]  # ...approvers get theirs on refresh
    assert card["refresh"]["action"]["verb"] == "approval.refresh"


async def test_a_refresh_gives_the_decision_buttons_to_approvers_only(bot, connector, submitted):
    assert set(await approver_buttons(bot, connector, submitted)) == {
        "Approve", "Approve with conditions", "Reject", "Ask for more information"}
    for user in (OUTSIDER, STAFF):
        assert "actions" not in await invoke(bot, connector, "approval.refresh", submitted.refresh, user, channel=True)


async def test_someone_not_an_approver_is_refused_and_audited_and_nothing_changes(bot, connector, submitted):
    approve = execute_data((await approver_buttons(bot, connector, submitted))["Approve"])
    refused = await invoke(bot, connector, "approval.decide", approve, OUTSIDER, channel=True)
    assert "You are not an approver for AI tool requests" in json.dumps(refused)
    assert [(r.status, r.version) for r in await rows(bot)] == [("pending", 1)]
    assert (await audit_actions(bot)).count("role.refused") == 1


async def test_an_approvers_question_reaches_the_requester_and_the_answer_the_channel_card(bot, connector, submitted):
    ask = (await approver_buttons(bot, connector, submitted))["Ask for more information"]
    asked = await invoke(bot, connector, "approval.decide", execute_data(ask, question="Will residents be recorded?"),
                         APP1, channel=True)
    assert "Will residents be recorded?" in json.dumps(asked)
    question = await connector.wait_for_text("Will residents be recorded?", conversation="a:staff")
    send_answer = actions_of(question["attachments"][0]["content"])["Send answer"]
    empty = await invoke(bot, connector, "approval.answer", execute_data(send_answer, answer=" "), STAFF,
                         conversation_id="a:staff")
    assert "Please write your answer." in json.dumps(empty)
    answered = await invoke(bot, connector, "approval.answer", execute_data(send_answer, answer="No, internal meetings only."),
                            STAFF, conversation_id="a:staff")
    assert "Answer sent" in json.dumps(answered)
    await connector.wait_for_text("No, internal meetings only.", conversation=GOV)  # the channel card, updated
    assert [r.status for r in await rows(bot)] == ["pending"]
    actions = await audit_actions(bot)
    assert actions.count("approval.ask") == 1 and actions.count("approval.answered") == 1


async def test_of_two_approvers_deciding_at_once_exactly_one_decides_and_the_other_is_told_who(bot, connector, submitted):
    buttons = await approver_buttons(bot, connector, submitted)
    approve = execute_data(buttons["Approve with conditions"], conditions="Internal meetings only.")
    reject = execute_data(buttons["Reject"], reason="Use Teams' own transcription instead.")
    results = await asyncio.gather(
        bot.post(card_action(connector, "approval.decide", approve, user=APP1, channel=True)),
        bot.post(card_action(connector, "approval.decide", reject, user=APP2, channel=True)),
    )
    assert all(r.status == 200 for r in results)
    cards = [json.dumps((await r.json())["value"]) for r in results]
    assert sum("Already " in c for c in cards) == 1
    [row] = await rows(bot)
    assert row.status in ("approved_with_conditions", "rejected") and row.version == 2
    winner = APP1 if row.status == "approved_with_conditions" else APP2
    assert f"by User {winner} at" in next(c for c in cards if "Already " in c)
    actions = await audit_actions(bot)
    assert actions.count("approval.approve_conditions") + actions.count("approval.reject") == 1


async def test_a_retried_decision_changes_nothing_and_the_requester_is_told_once(bot, connector, submitted):
    reject = execute_data((await approver_buttons(bot, connector, submitted))["Reject"], reason="Not needed.")
    await invoke(bot, connector, "approval.decide", reject, APP1, channel=True)
    await bot.settled()
    before = len(connector.activities())
    again = await invoke(bot, connector, "approval.decide", reject, APP1, channel=True)  # Teams retries the invoke
    assert "Already" not in json.dumps(again) and "actions" not in again
    await asyncio.sleep(0.5)
    assert len(connector.activities()) == before
    final_channel = updated_in(connector, GOV)[-1]["attachments"][0]["content"]
    assert "refresh" not in final_channel and "actions" not in final_channel
    told = posted_to(connector, "a:staff")
    assert len(told) == 1 and submitted.reference in told[0]["text"]
    assert (await audit_actions(bot)).count("approval.reject") == 1


async def test_approval_with_conditions_enters_the_register_with_a_review_date_in_a_year(bot, connector, submitted):
    conditional = (await approver_buttons(bot, connector, submitted))["Approve with conditions"]
    await invoke(bot, connector, "approval.decide",
                 execute_data(conditional, conditions="Internal meetings only; delete audio after 30 days."), APP1, channel=True)
    otter = {t.name: t for t in await bot.services.tools.all()}["Otter.ai"]
    assert otter.status == "approved with conditions" and otter.approved_by == f"User {APP1}"
    assert "delete audio after 30 days" in otter.conditions
    today = datetime.now(timezone.utc).date()
    assert otter.review_due == date(today.year + 1, today.month, min(today.day, 28 if today.month == 2 else today.day))
    actions = await audit_actions(bot)
    assert {"approval.requested", "approval.approve_conditions", "register.updated"} <= set(actions)
    assert await bot.services.audit.verify() is None


async def test_my_requests_lists_the_request_with_its_decision(bot, connector, submitted):
    reject = execute_data((await approver_buttons(bot, connector, submitted))["Reject"], reason="Not needed.")
    await invoke(bot, connector, "approval.decide", reject, APP1, channel=True)
    await bot.settled()
    count = len(connector.activities())
    mine = await bot.post(message(connector, "my requests", user=STAFF, conversation_id="a:staff"))
    assert mine.status == 200
    listing = json.dumps((await connector.wait_for(count + 1))[-1])
    assert submitted.reference in listing and "Rejected" in listing


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


async def test_an_approver_opens_a_pending_request_by_its_reference_and_decides_on_that_copy(bot, connector, submitted):
    """The first card may be far up the channel (or in a terminal chat since restarted): typing the reference shows
    it again with the buttons, and deciding there updates the channel's card and tells the requester, as on the first."""
    shown = await typed_in_own_chat(bot, connector, f"open request {submitted.reference.lower()}", APP1)
    reject = execute_data(actions_of(shown["attachments"][0]["content"])["Reject"], reason="Use Teams' own transcription.")
    decided = await invoke(bot, connector, "approval.decide", reject, APP1, conversation_id=f"a:{APP1}")
    assert "Rejected" in json.dumps(decided) and "actions" not in decided
    await bot.settled()
    channel_card = updated_in(connector, GOV)[-1]["attachments"][0]["content"]
    assert "Rejected" in json.dumps(channel_card) and "refresh" not in channel_card
    assert submitted.reference in posted_to(connector, "a:staff")[-1]["text"]
    assert [r.status for r in await rows(bot)] == ["rejected"]
    assert (await audit_actions(bot)).count("approval.reject") == 1


async def test_an_opened_decided_request_shows_its_decision_without_buttons(bot, connector, submitted):
    approve = execute_data((await approver_buttons(bot, connector, submitted))["Approve"])
    await invoke(bot, connector, "approval.decide", approve, APP1, channel=True)
    card = (await typed_in_own_chat(bot, connector, f"open tool request {submitted.reference}", APP2))["attachments"][0]["content"]
    assert f"**Approved** by User {APP1}" in json.dumps(card)
    assert "actions" not in card and "refresh" not in card


async def test_opening_a_request_by_reference_is_refused_and_audited_for_anyone_else(bot, connector, submitted):
    for user in (OUTSIDER, STAFF):  # the requester too: the card is the approvers'; theirs is "my requests"
        shown = json.dumps(await typed_in_own_chat(bot, connector, f"open request {submitted.reference}", user))
        assert "You can't open tool requests" in shown and "Otter.ai" not in shown
    assert await refusals(bot) == [(user, f"approval:{submitted.reference}", {"action": "open"}) for user in (OUTSIDER, STAFF)]


def test_a_restarted_terminal_chat_decides_a_waiting_request_by_its_reference(tmp_path):
    """The terminal forgets its cards when it stops; the approver opens the request again by its reference."""
    db_url, first = f"sqlite:///{tmp_path}/b.db", f"REQ-{datetime.now(timezone.utc).year}-0001"
    request = ["request tool Gamma", "1", "", "Draft slides for briefings", "public", "Published reports", "Slides",
               "Internal briefings", "public", ""]
    chat(db_url, request, "--as", "carol", "--approver", "alice")
    out = chat(db_url, [f"open request {first}", "1"], "--as", "alice", "--approver", "alice")
    assert f"AI tool request {first}: Gamma" in out and "[1] Approve\n" in out
    assert "Approved by alice" in out
    assert f"Your request {first}" in out.split("── sent to personal local-chat-carol ──")[1]  # carol's 1:1, told
