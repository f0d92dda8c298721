"""Questions passed to the governance team, end to end over HTTP with the fake connector: the card in their
channel (or 1:1), a member's response on it, the asker's 1:1 reply, and Teams' own feedback control."""

from __future__ import annotations

import asyncio
import getpass
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from contextlib import AsyncExitStack
from support.activities import activity, card_action, channel_message, message
from support.bots import make_settings, running_bot
from support.connector import posted_to, updated_in
from storage.models import AuditRow, QuestionRow
from storage.privacy import Records, RetentionRule
from storage.subject_access import SubjectAccess
from support.processes import chat, run_cli as run

ADMIN, GOV, GOV2, STAFF, OUTSIDER = "aad-admin", "aad-gov", "aad-gov2", "aad-staff", "aad-outsider"
CHANNEL = "19:gov@thread.tacv2"
QUESTION = "Can I use AI to screen job applications?"
FIRST = f"Q-{datetime.now(timezone.utc).year}-0001"  # the first reference of the year


@pytest.fixture
async def bot(database_url):
    settings = make_settings(database_url, admin_ids=ADMIN, governance_ids=f"{GOV},{GOV2}",
                             outbox_base_delay=0.05, connector_timeout=1.0)
    runner = AsyncExitStack()
    running = await runner.enter_async_context(running_bot(settings))
    yield running
    await runner.aclose()


def form_data(card: dict, title: str) -> dict:
    """The data of a card button; for a button that opens a small form, of the form's own button."""
    action = next(a for a in card.get("actions", []) if a["title"] == title)
    return action["card"]["actions"][0]["data"] if action["type"] == "Action.ShowCard" else action["data"]


async def open_chats(bot, connector, *users: str) -> None:
    for user in users:
        await bot.post(message(connector, "help", user=user, conversation_id=f"a:{user}"))
    await bot.settled()


async def register_channel(bot, connector) -> None:
    connector.members = [{"id": f"29:{user}", "aadObjectId": user} for user in (GOV, GOV2, "aad-someone-else")]
    await bot.post(channel_message(connector, "register governance", CHANNEL, user=ADMIN))
    await bot.settled()


async def ask_and_pass_on(bot, connector, text: str = QUESTION, **answers) -> dict:
    """STAFF asks; the answer's card offers 'Ask the governance team'; pressing it returns the receipt."""
    before = len(posted_to(connector, f"a:{STAFF}"))
    await bot.post(message(connector, text, user=STAFF, conversation_id=f"a:{STAFF}"))
    await bot.settled()
    answer = posted_to(connector, f"a:{STAFF}")[before:][-1]
    data = form_data(answer["attachments"][0]["content"], "Ask the governance team")
    response = await bot.post(card_action(connector, "qa.escalate", {**data, **answers}, user=STAFF,
                                          conversation_id=f"a:{STAFF}"))
    await bot.settled()
    return (await response.json())["value"]


async def click(bot, connector, verb: str, data: dict, user: str) -> dict:
    response = await bot.post(card_action(connector, verb, data, user=user, channel=True))
    assert response.status == 200
    return (await response.json())["value"]


async def question_row(bot) -> QuestionRow:
    async with bot.services.db.sessions() as session:
        return (await session.execute(select(QuestionRow).order_by(QuestionRow.id.desc()))).scalars().first()


async def member_view(bot, connector, channel_card: dict, user: str = GOV) -> dict:
    return await click(bot, connector, "qa.escalation.refresh", channel_card["refresh"]["action"]["data"], user)


async def answer_on_card(bot, connector, button: str, values: dict, user: str = GOV) -> dict:
    """A member opens the channel card (Teams refreshes it to their view) and responds with one of its buttons."""
    channel_card = posted_to(connector, CHANNEL)[-1]["attachments"][0]["content"]
    card = await member_view(bot, connector, channel_card, user)
    done = await click(bot, connector, "qa.respond", {**form_data(card, button), **values}, user)
    await bot.settled()
    return done


async def test_passed_on_question_is_a_new_thread_in_the_channel_answered_there_and_sent_to_the_asker(bot, connector):
    await register_channel(bot, connector)
    await open_chats(bot, connector, STAFF)
    receipt = await ask_and_pass_on(bot, connector, comment="For a panel next week.")
    assert f"Passed to the governance team: {FIRST}" in json.dumps(receipt)
    assert "in their Teams channel" in json.dumps(receipt)
    [posted] = posted_to(connector, CHANNEL)
    assert "replyToId" not in posted  # a new thread, not a reply in another
    channel_card = posted["attachments"][0]["content"]
    shown = json.dumps(channel_card)
    row = await question_row(bot)
    assert row.reference in shown and "User aad-staff" in shown and "For a panel next week." in shown
    assert "screen job applications" in shown and "7.2" in shown  # the question, and the passage the bot offered
    assert "actions" not in channel_card and channel_card["refresh"]["userIds"] == [f"29:{GOV}", f"29:{GOV2}"]

    card = await member_view(bot, connector, channel_card)
    answer = {**form_data(card, "This passage answers it"), "passage": "1"}
    done = await click(bot, connector, "qa.respond", answer, GOV)
    assert "chose section **7.2" in json.dumps(done) and "actions" not in done
    await bot.settled()
    [update] = updated_in(connector, CHANNEL)  # the channel's card, updated in place for everyone
    assert "chose section **7.2" in json.dumps(update) and "actions" not in update["attachments"][0]["content"]
    [told] = posted_to(connector, f"a:{STAFF}")[-1:]
    assert row.reference in told["text"] and "says this passage of the policy answers it" in told["text"]
    assert told["entities"][0]["citation"][0]["appearance"]["name"].startswith("7.2")
    row = await question_row(bot)
    assert row.escalation_status == "passage" and row.response["section"] == "7.2" and row.responder_id == GOV


async def test_a_non_member_click_is_refused_audited_and_changes_nothing(bot, connector):
    await register_channel(bot, connector)
    await open_chats(bot, connector, STAFF)
    await ask_and_pass_on(bot, connector)
    channel_card = posted_to(connector, CHANNEL)[0]["attachments"][0]["content"]
    data = form_data(await member_view(bot, connector, channel_card), "Not covered by the policy")
    refused = await click(bot, connector, "qa.respond", data, OUTSIDER)
    assert "You can't answer this question" in json.dumps(refused)
    outsider_view = await member_view(bot, connector, channel_card, user=OUTSIDER)
    assert "You can't see this question" in json.dumps(outsider_view)
    await bot.settled()
    assert (await question_row(bot)).escalation_status == "waiting"
    async with bot.services.db.sessions() as session:
        refusals = (await session.execute(select(AuditRow).where(AuditRow.action == "role.refused"))).scalars().all()
    assert [(r.actor, r.subject) for r in refusals][:1] == [(OUTSIDER, f"question:{(await question_row(bot)).reference}")]
    assert updated_in(connector, CHANNEL) == []


async def test_a_double_click_passes_a_question_on_once(bot, connector):
    await register_channel(bot, connector)
    await open_chats(bot, connector, STAFF)
    await bot.post(message(connector, QUESTION, user=STAFF, conversation_id=f"a:{STAFF}"))
    await bot.settled()
    data = form_data(posted_to(connector, f"a:{STAFF}")[-1]["attachments"][0]["content"], "Ask the governance team")
    results = await asyncio.gather(*[bot.post(card_action(connector, "qa.escalate", data, user=STAFF,
                                                          conversation_id=f"a:{STAFF}")) for _ in range(2)])
    texts = [json.dumps(await r.json()) for r in results]
    assert sum(f"Passed to the governance team: {FIRST}" in t for t in texts) == 1
    assert sum(f"Already passed on: {FIRST}" in t for t in texts) == 1
    await bot.settled()
    assert len(posted_to(connector, CHANNEL)) == 1


async def test_two_simultaneous_responses_record_one_and_a_retried_click_changes_nothing(bot, connector):
    await register_channel(bot, connector)
    await open_chats(bot, connector, STAFF)
    await ask_and_pass_on(bot, connector)
    channel_card = posted_to(connector, CHANNEL)[0]["attachments"][0]["content"]
    card = await member_view(bot, connector, channel_card)
    answers = [{**form_data(card, "Write an answer"), "answer": f"Answer from {user}."} for user in (GOV, GOV2)]
    results = await asyncio.gather(*[click(bot, connector, "qa.respond", data, user)
                                     for data, user in zip(answers, (GOV, GOV2))])
    texts = [json.dumps(r) for r in results]
    assert sum("Someone else answered this question first" in t or "already been answered" in t for t in texts) == 1
    await bot.settled()
    told = [a for a in posted_to(connector, f"a:{STAFF}") if "replied, in their own words" in a.get("text", "")]
    assert len(told) == 1
    again = await click(bot, connector, "qa.respond", answers[0], GOV)  # Teams retries the click
    assert "already been answered" in json.dumps(again)
    await bot.settled()
    assert len([a for a in posted_to(connector, f"a:{STAFF}") if "replied" in a.get("text", "")]) == 1
    assert len(updated_in(connector, CHANNEL)) == 1
    async with bot.services.db.sessions() as session:
        actions = [a for (a,) in await session.execute(select(AuditRow.action))]
    assert actions.count("question.answer") == 1


async def test_written_answer_reaches_the_asker_as_a_reply_from_the_named_person(bot, connector):
    await register_channel(bot, connector)
    await open_chats(bot, connector, STAFF)
    await ask_and_pass_on(bot, connector, anonymous="true")
    channel_card = posted_to(connector, CHANNEL)[0]["attachments"][0]["content"]
    assert "Anonymous" in json.dumps(channel_card) and "aad-staff" not in json.dumps(channel_card)
    await answer_on_card(bot, connector, "Write an answer", {"answer": "Yes, if a person makes *every* decision."})
    told = posted_to(connector, f"a:{STAFF}")[-1]
    assert "User aad-gov replied, in their own words (this is not a quote of the policy)" in told["text"]
    assert "\\*every\\*" in told["text"] and "entities" not in told  # shown as typed, and no policy citation


async def test_with_no_channel_each_member_gets_the_card_1to1_and_the_receipt_says_so(bot, connector):
    await open_chats(bot, connector, STAFF, GOV)  # GOV2 has never opened a chat with the bot
    receipt = json.dumps(await ask_and_pass_on(bot, connector))
    assert "1 person of 2, each in their own Teams chat" in receipt and "haven't opened a chat" in receipt
    [card] = [a for a in posted_to(connector, f"a:{GOV}") if "Staff question" in json.dumps(a)]
    content = card["attachments"][0]["content"]
    titles = [a["title"] for a in content["actions"]]
    assert titles == ["This passage answers it", "Write an answer", "Not covered by the policy", "Not a policy question"]
    done = await click(bot, connector, "qa.respond", form_data(content, "Not a policy question") | {
        "pointer": "Ask the IT service desk."}, GOV)
    assert "not a policy question" in json.dumps(done)
    await bot.settled()
    told = posted_to(connector, f"a:{STAFF}")[-1]
    assert "isn't a question about the GenAI policy" in told["text"] and "Ask the IT service desk." in told["text"]


async def test_typing_ask_a_person_passes_the_question_on(bot, connector):
    await register_channel(bot, connector)
    await open_chats(bot, connector, STAFF)
    await bot.post(message(connector, "ask a person Can I use my own ChatGPT account at home for work?", user=STAFF,
                           conversation_id=f"a:{STAFF}"))
    await bot.settled()
    receipt = posted_to(connector, f"a:{STAFF}")[-1]
    assert "Passed to the governance team: Q-" in json.dumps(receipt) and "in their Teams channel" in json.dumps(receipt)
    assert "my own ChatGPT account" in json.dumps(posted_to(connector, CHANNEL)[0])
    await bot.post(message(connector, "ask a person", user=STAFF, conversation_id=f"a:{STAFF}"))
    await bot.settled()
    assert "followed by your question" in posted_to(connector, f"a:{STAFF}")[-1]["text"]
    await bot.post(message(connector, "ask a person anonymously: may I use Copilot for minutes?", user=STAFF,
                           conversation_id=f"a:{STAFF}"))
    await bot.settled()
    card = json.dumps(posted_to(connector, CHANNEL)[-1])
    assert "may I use Copilot for minutes?" in card and "Anonymous" in card and "aad-staff" not in card
    assert "without your name" in json.dumps(posted_to(connector, f"a:{STAFF}")[-1])


def feedback_invoke(connector, reply_to: str, reaction: str, text: str | None = None, user: str = STAFF) -> dict:
    invoke = activity("invoke-adaptiveCard/action-personal", connector, user=user, conversation_id=f"a:{user}")
    invoke["name"] = "message/submitAction"
    invoke["replyToId"] = reply_to
    feedback = json.dumps({"feedbackText": text}) if text is not None else ""
    invoke["value"] = {"actionName": "feedback", "actionValue": {"reaction": reaction, "feedback": feedback}}
    return invoke


async def test_teams_feedback_control_is_answered_200_with_an_empty_body_and_a_dislike_passes_it_on(bot, connector):
    await register_channel(bot, connector)
    await open_chats(bot, connector, STAFF)
    await bot.post(message(connector, QUESTION, user=STAFF, conversation_id=f"a:{STAFF}"))
    await bot.settled()
    answer_id = (await question_row(bot)).answer_activity_id
    assert answer_id and answer_id.startswith("activity-")
    response = await bot.post(feedback_invoke(connector, answer_id, "dislike", "I asked about shortlisting."))
    assert response.status == 200 and await response.read() == b""
    await bot.settled()
    row = await question_row(bot)
    assert row.feedback == "not_helpful" and row.escalation_reason == "not_helpful"
    assert row.escalation_comment == "I asked about shortlisting."
    assert "I asked about shortlisting." in json.dumps(posted_to(connector, CHANNEL)[0])
    assert "Passed to the governance team" in json.dumps(posted_to(connector, f"a:{STAFF}")[-1])


async def test_a_like_records_helpful_and_feedback_on_someone_elses_answer_is_kept_not_applied(bot, connector):
    await open_chats(bot, connector, STAFF)
    await bot.post(message(connector, QUESTION, user=STAFF, conversation_id=f"a:{STAFF}"))
    await bot.settled()
    answer_id = (await question_row(bot)).answer_activity_id
    response = await bot.post(feedback_invoke(connector, answer_id, "like", user=OUTSIDER))
    assert response.status == 200 and await response.read() == b""
    assert (await question_row(bot)).feedback is None
    response = await bot.post(feedback_invoke(connector, answer_id, "like"))
    assert response.status == 200 and await response.read() == b""
    row = await question_row(bot)
    assert row.feedback == "helpful" and row.reference is None
    async with bot.services.db.sessions() as session:
        assert (await session.execute(select(AuditRow.actor).where(AuditRow.action == "question.feedback_unmatched"))
                ).scalar() == OUTSIDER


BADLY_ANSWERED = "is there a list of the good apps"
WORDED_LIKE_IT = "is there a list of good apps somewhere"


async def test_the_bot_learns_the_passage_a_member_picks_for_a_question_it_answered_badly(bot, connector):
    await register_channel(bot, connector)
    await open_chats(bot, connector, STAFF)
    assert not (await bot.services.library.current()).index.search(WORDED_LIKE_IT).answered  # before it learns
    receipt = await ask_and_pass_on(bot, connector, BADLY_ANSWERED)  # the bot found nothing to quote
    assert "Passed to the governance team" in json.dumps(receipt)
    channel_card = posted_to(connector, CHANNEL)[0]["attachments"][0]["content"]
    assert "found no passage" in json.dumps(channel_card)
    await answer_on_card(bot, connector, "This passage answers it", {"search": "approved tools register"})
    told = posted_to(connector, f"a:{STAFF}")[-1]
    assert "says this passage of the policy answers it" in told["text"]
    picked = told["text"].split("\n\n")[1].replace("[1]", "")
    assert picked.startswith("**4 ") and "approved tools register" in picked

    await bot.post(message(connector, WORDED_LIKE_IT, user=STAFF, conversation_id=f"a:{STAFF}"))
    await bot.settled()
    answer = posted_to(connector, f"a:{STAFF}")[-1]
    assert answer["text"].split("\n\n")[1].replace("[1]", "") == picked  # that passage, first


def test_the_same_loop_in_the_terminal_chat(tmp_path):
    """`policy-bot chat` has one person: made a governance member, they get the card 1:1 and answer it there."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/b.db", "LOG_LEVEL": "ERROR",
           "GOVERNANCE_IDS": f"local-{getpass.getuser()}"}
    typed = [BADLY_ANSWERED, "1", "Where is the list?", "", "1", "approved tools register", WORDED_LIKE_IT, "quit"]
    result = run("chat", env=env, stdin="\n".join(typed) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Passed to the governance team: Q-" in out and "(1 person," in out
    assert "Their comment: Where is the list?" in out and "[1] This passage answers it" in out
    told = out.index("says this passage of the policy answers it.")
    picked = out[told:].split("bot> ")[1].split(f"{getpass.getuser()}>")[0].strip()  # up to the next prompt
    assert picked.startswith("4 Approved tools and ownership [1]: “4.1.")
    later = out.split("Here is what the policy says:")[-1]
    assert later.split("bot> ")[1].split("┌")[0].strip() == picked  # the taught passage comes first
    # In the terminal there is no Teams feedback control, so the answer keeps its rating buttons.
    assert "[2] Helpful" in later and "[3] Not helpful" in later


async def test_a_question_still_waiting_for_the_governance_team_is_kept_past_retention(bot, connector):
    await open_chats(bot, connector, STAFF, GOV)
    await ask_and_pass_on(bot, connector)
    async with bot.services.db.sessions.begin() as session:
        await session.execute(update(QuestionRow).values(asked_at=datetime.now(timezone.utc) - timedelta(days=400)))
    records, rule = Records(bot.services.db, bot.services.audit), [RetentionRule("questions", 90)]
    assert (await records.purge(rule, actor="admin"))["questions"] == 0
    [card] = [a for a in posted_to(connector, f"a:{GOV}") if "Staff question" in json.dumps(a)]
    await click(bot, connector, "qa.respond", form_data(card["attachments"][0]["content"], "Not covered by the policy"), GOV)
    assert (await records.purge(rule, actor="admin"))["questions"] == 1


async def test_subject_access_gives_the_asker_their_answer_and_the_member_only_their_own_action(bot, connector):
    await register_channel(bot, connector)
    await open_chats(bot, connector, STAFF, GOV)
    await ask_and_pass_on(bot, connector, comment="For a panel next week.")
    await answer_on_card(bot, connector, "Write an answer", {"answer": "Only with a person deciding."})
    access = SubjectAccess(bot.services.db, bot.services.audit)
    asker = json.dumps(await access.export(STAFF), default=str)
    assert "For a panel next week." in asker and "Only with a person deciding." in asker
    member = await access.export(GOV)
    assert "screen job applications" not in json.dumps(member, default=str)  # the asker's question is theirs
    [answered] = member["questions_answered"]
    assert answered["your_actions"][0]["action"] == "question.answer"
    assert answered["your_actions"][0]["text"] == "Only with a person deciding."


async def test_feedback_on_an_answer_that_waited_in_the_outbox_still_finds_its_question(bot, connector):
    await register_channel(bot, connector)
    await open_chats(bot, connector, STAFF)
    connector.faults = [(503, {})] * 5  # the answer can't be sent at once: it waits in the outbox
    await bot.post(message(connector, QUESTION, user=STAFF, conversation_id=f"a:{STAFF}"))
    await bot.settled()
    [entry] = [e for e in await bot.services.outbox.entries("sent", prefix="reply:") if "feedbackLoop" in json.dumps(e.activity)]
    assert (await question_row(bot)).answer_activity_id is None
    response = await bot.post(feedback_invoke(connector, entry.activity_id, "dislike", "Not what I asked."))
    assert response.status == 200 and await response.read() == b""
    await bot.settled()
    row = await question_row(bot)
    assert row.feedback == "not_helpful" and row.escalation_comment == "Not what I asked."


async def test_a_member_opens_a_waiting_question_by_its_reference_and_answers_on_that_copy(bot, connector):
    """The first card may be far up a channel (or in a terminal chat since restarted): typing the reference shows it
    again with its buttons, and answering there tells the asker, as on the first card."""
    await open_chats(bot, connector, STAFF, GOV)
    await ask_and_pass_on(bot, connector)
    reference = (await question_row(bot)).reference
    before = len(posted_to(connector, f"a:{GOV}"))
    await bot.post(message(connector, f"open question {reference.lower()}", user=GOV, conversation_id=f"a:{GOV}"))
    [shown] = posted_to(connector, f"a:{GOV}")[before:]
    card = shown["attachments"][0]["content"]
    assert reference in json.dumps(card)
    response = await bot.post(card_action(connector, "qa.respond", form_data(card, "Not covered by the policy"),
                                          user=GOV, conversation_id=f"a:{GOV}"))
    assert response.status == 200
    await bot.settled()
    assert (await question_row(bot)).escalation_status == "not_covered"
    assert any(reference in json.dumps(a) for a in posted_to(connector, f"a:{STAFF}")[-1:])


async def test_opening_a_question_by_reference_is_refused_and_audited_for_anyone_else(bot, connector):
    await open_chats(bot, connector, STAFF, OUTSIDER)
    await ask_and_pass_on(bot, connector)
    reference = (await question_row(bot)).reference
    await bot.post(message(connector, f"open question {reference}", user=OUTSIDER, conversation_id=f"a:{OUTSIDER}"))
    [shown] = posted_to(connector, f"a:{OUTSIDER}")[-1:]
    assert "You can't answer this question" in json.dumps(shown) and "Staff question" not in json.dumps(shown)
    async with bot.services.db.sessions() as session:
        refusals = (await session.execute(select(AuditRow).where(AuditRow.action == "role.refused"))).scalars().all()
    assert [(r.actor, r.subject) for r in refusals] == [(OUTSIDER, f"question:{reference}")]


@pytest.mark.parametrize("typed, expected", [("open question", "for example: open question Q-"),
                                             ("open question Q-1999-0042", "No question passed on has the reference Q-1999-0042")])
async def test_opening_a_question_without_a_reference_or_with_an_unknown_one_says_so(bot, connector, typed, expected):
    await open_chats(bot, connector, GOV)
    await bot.post(message(connector, typed, user=GOV, conversation_id=f"a:{GOV}"))
    assert expected in json.dumps(posted_to(connector, f"a:{GOV}")[-1])


def test_a_restarted_terminal_chat_answers_a_waiting_question_by_its_reference(tmp_path):
    """The terminal forgets its cards when it stops; the governance member opens the question again by reference."""
    db_url = f"sqlite:///{tmp_path}/b.db"
    chat(db_url, ["ask a person can I paste a resident's letter into ChatGPT?"], "--as", "carol", "--governance", "bob")
    out = chat(db_url, [f"open question {FIRST}", "3", "", ""], "--as", "bob", "--governance", "bob")
    assert "[3] Not covered by the policy" in out and "Status: Not covered by the policy" in out
    assert f"About your question {FIRST}" in out  # the asker's 1:1 reply, delivered to carol's chat


@pytest.mark.parametrize("typed", [["7.2"], ["3", ""]])  # a choice is followed by the second prompt (Enter: none)
def test_the_terminal_chat_takes_a_section_number_or_a_choice_at_the_passage_prompt(tmp_path, typed):
    """The card offers passages, 'or a section number, or a few words': in the terminal both come one prompt after
    the other, and a section number typed at the first is the second's answer (not asked again), not a refused choice."""
    out = chat(f"sqlite:///{tmp_path}/b.db", ["ask a person can I paste a resident's letter into ChatGPT?", "1", *typed],
               "--as", "bob", "--governance", "bob")
    offered = dict(re.findall(r"│ (\d)\. (\d+\.\d+) ", out))
    assert "One of the passages offered (1 / 2 / 3, or type the answer to the next):" in out
    assert "bob says this passage of the policy answers it" in " ".join(out.split())
    assert f"chose section {offered.get(typed[0], typed[0])} " in out and "Please choose one of the passages" not in out
