"""Policy Q&A end to end: over HTTP with the fake connector, in the records, and in the evaluation."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from support.activities import card_action, message
from domain.policy_search import TENTATIVE_MARGIN
from storage.models import AuditRow, QuestionRow

ROOT = Path(__file__).resolve().parents[1]


def buttons(card: dict) -> dict[str, dict]:
    """Each button's data; for a button that opens a small form, the data of the form's own button."""
    return {a["title"]: a["card"]["actions"][0]["data"] if a["type"] == "Action.ShowCard" else a["data"]
            for a in card.get("actions", [])}


async def ask(bot, connector, text: str, expected: int) -> list[dict]:
    before = len(connector.activities())
    response = await bot.post(message(connector, text))
    assert response.status == 200
    return (await connector.wait_for(before + expected))[before:]


async def test_answer_quotes_passages_as_teams_citations(bot, connector):
    sent = await ask(bot, connector, "Do I have to tell people that I used AI to write something?", 3)
    answer = actions = sent[2]  # one message: cited text with the card of follow-up buttons
    assert "**9.1 Disclosure of AI use** [" in answer["text"]
    entity = answer["entities"][0]
    assert entity["@type"] == "Message" and entity["type"] == "https://schema.org/Message"
    citations = entity["citation"]
    assert 1 <= len(citations) <= 3
    names = [c["appearance"]["name"] for c in citations]
    assert "9.1 Disclosure of AI use" in names
    for c in citations:
        assert f"[{c['position']}]" in answer["text"]
    card = actions["attachments"][0]["content"]
    assert "Read section 9.1" in buttons(card)


async def test_show_whole_section_and_pass_the_question_on(bot, connector):
    sent = await ask(bot, connector, "Can I use AI to screen job applications?", 3)
    card = sent[2]["attachments"][0]["content"]
    data = buttons(card)
    # In Teams the answer carries Teams' own feedback control, so the card has no rating buttons.
    assert sent[2]["channelData"] == {"feedbackLoop": {"type": "default"}}
    assert "Helpful" not in data and "Not helpful" not in data
    section = next(v for k, v in data.items() if k.startswith("Read section"))
    response = await bot.post(card_action(connector, "qa.section", section))
    assert response.status == 200
    shown = (await connector.wait_for(4))[3]
    assert "Prohibited uses" in json.dumps(shown) and "recruitment" in json.dumps(shown)

    response = await bot.post(card_action(connector, "qa.escalate", {**data["Ask the governance team"],
                                                                     "comment": "For a panel next week."}))
    card = (await response.json())["value"]
    assert "Passed to the governance team: Q-" in json.dumps(card)

    async with bot.services.db.sessions() as session:
        row = (await session.execute(select(QuestionRow))).scalars().one()
        assert row.escalated_at is not None and row.reference.startswith("Q-")
        assert row.escalation_comment == "For a panel next week." and row.escalation_status == "waiting"
        assert row.answered and row.passages[0]["section"] == "7.2"
        assert row.policy_version_id is not None
        assert (await session.execute(select(AuditRow).where(AuditRow.action == "question.escalated"))).scalar()


async def test_someone_else_cannot_rate_or_escalate_my_question(bot, connector):
    sent = await ask(bot, connector, "Does GDPR still apply when we use AI?", 3)
    data = buttons(sent[2]["attachments"][0]["content"])
    other = "99999999-0000-0000-0000-000000000000"
    rating = {"question": data["Ask the governance team"]["question"], "value": "helpful"}
    body = await (await bot.post(card_action(connector, "qa.feedback", rating, user=other))).json()
    assert "Only the person who asked" in json.dumps(body)
    body = await (await bot.post(card_action(connector, "qa.escalate", data["Ask the governance team"], user=other))).json()
    assert "Only the person who asked" in json.dumps(body)
    forged = {"question": "DROP TABLE questions", "value": "helpful"}
    body = await (await bot.post(card_action(connector, "qa.feedback", forged))).json()
    assert "not one I recognise" in json.dumps(body)
    async with bot.services.db.sessions() as session:
        row = (await session.execute(select(QuestionRow))).scalars().one()
        assert row.feedback is None and row.reference is None


async def test_out_of_scope_is_refused_plainly_with_a_route_to_a_person(bot, connector):
    sent = await ask(bot, connector, "What is the mileage rate for using my own car?", 3)
    card = sent[2]["attachments"][0]["content"]
    assert "The policy doesn't cover that" in json.dumps(card)
    assert "ai-board@testshire.gov.uk" in json.dumps(card)
    assert "Ask the governance team" in buttons(card)
    async with bot.services.db.sessions() as session:
        row = (await session.execute(select(QuestionRow))).scalars().one()
        assert row.answered is False and row.passages == []

    passed_on = await (await bot.post(card_action(connector, "qa.escalate", buttons(card)["Ask the governance team"]))).json()
    # Nobody is set up to receive it in this test: the asker is told so, and whom to email.
    assert "Passed to the governance team: Q-" in json.dumps(passed_on)
    assert "nobody there can be reached by this bot yet" in json.dumps(passed_on)
    assert "ai-board@testshire.gov.uk" in json.dumps(passed_on)


async def test_tool_questions_answer_from_the_register_first(bot, connector):
    sent = await ask(bot, connector, "Is Claude approved?", 3)
    assert "Claude** is not on the approved tools list, so it is presumed unauthorised" in sent[2]["text"]
    sent = await ask(bot, connector, "Can I use Copilot to summarise a meeting?", 1)
    assert sent[0]["text"].startswith("**Microsoft 365 Copilot Chat** is approved with conditions")
    sent = await ask(bot, connector, "is deepseek ok to use?", 1)
    assert "**DeepSeek** is **not approved**" in sent[0]["text"]


async def test_personal_data_is_warned_about_and_only_a_redacted_copy_kept(bot, connector):
    question = "Can I paste Jo Bloggs, 12 High Street, SW1A 1AA, jo@example.com, NI QQ123456C into ChatGPT?"
    sent = await ask(bot, connector, question, 4)
    assert "Please don't share personal data here" in json.dumps(sent[2])
    async with bot.services.db.sessions() as session:
        stored = (await session.execute(select(QuestionRow.text))).scalar()
    for secret in ("jo@example.com", "QQ123456C", "SW1A 1AA", "Jo Bloggs"):
        assert secret not in stored
    assert "[email]" in stored and "[NI number]" in stored


async def test_a_very_long_question_is_refused_politely(bot, connector):
    sent = await ask(bot, connector, "policy " * 600, 3)
    assert "I can read questions of up to 2000" in sent[2]["text"]


async def test_answers_come_from_the_newest_published_version(bot, connector, tmp_path):
    await ask(bot, connector, "help", 3)
    newer = tmp_path / "policy.md"
    newer.write_text("# AI policy\n\n## 1. Purpose\n\n1.1. This short policy sets out rules for using generative AI.\n\n"
                     "## 2. Lunch\n\n2.1. Staff may eat lunch at their desks while using generative AI tools.\n")
    await bot.services.policies.publish(label="9.9", text=newer.read_text(), source_name="policy.md", published_by="t")
    bot.services.library._checked_at = 0  # skip the few seconds a process waits before re-checking
    sent = await ask(bot, connector, "Can I eat lunch at my desk while using AI?", 1)
    assert "2 Lunch" in sent[0]["text"]


async def test_thanks_and_bare_numbers_get_a_pointer_to_help_not_a_refusal(bot, connector):
    for text in ("thanks!", "42"):
        before = len(connector.activities())
        assert (await bot.post(message(connector, text))).status == 200
        sent = await connector.wait_for(before + 1)
        replies = json.dumps(sent[before:])
        assert "**help**" in replies and "The policy doesn't cover that" not in replies
    async with bot.services.db.sessions() as session:
        assert (await session.execute(select(QuestionRow))).scalars().all() == []


async def test_passages_from_one_section_give_one_read_section_button(bot, connector):
    sent = await ask(bot, connector, "What are the prohibited uses?", 3)
    answer = sent[2]
    assert answer["text"].count("**7.2 ") >= 2  # two or more passages quoted from section 7.2...
    titles = [a["title"] for a in answer["attachments"][0]["content"]["actions"]]
    assert titles.count("Read section 7.2") == 1  # ...and one button to read it
    assert len(titles) == len(set(titles))


async def test_questions_about_the_bot_get_what_it_is_and_how_to_reach_a_person(bot, connector):
    await ask(bot, connector, "help", 3)  # the welcome is out of the way
    for text in ("Are you a real person?", "what can you do", "who made you?"):
        sent = await ask(bot, connector, text, 1)
        card = json.dumps(sent[0])
        assert "I am not a generative AI" in card and "To reach a person" in card, text
        assert "The policy doesn't cover that" not in card and "Prohibited uses" not in card
    async with bot.services.db.sessions() as session:
        assert (await session.execute(select(QuestionRow))).scalars().all() == []


async def test_a_message_telling_of_an_incident_offers_the_report_form_filled_in_with_it(bot, connector):
    sent = await ask(bot, connector, "I pasted a resident's address into ChatGPT", 3)
    card = sent[2]["attachments"][0]["content"]
    assert "If this has happened, please report it now" in json.dumps(card)
    assert "The policy says" not in sent[2]["text"]  # only the register's verdict: nothing was quoted...
    assert "Was this what you needed?" in json.dumps(card) and "Quotes are from" not in json.dumps(card)  # ...or claimed
    report = buttons(card)["Report it now"]
    assert report["verb"] == "incident.start"

    form = await ask_by_card(bot, connector, report)
    inputs = {i["id"]: i.get("value") for i in form["body"] if i.get("id")}
    assert inputs["description"] == "I pasted a resident's address into ChatGPT"
    assert inputs["tool_name"] == "ChatGPT"

    # Someone else pressing the same button gets an empty form, not the first person's words.
    before = len(connector.activities())
    await bot.post(message(connector, "help", user="someone-else"))  # their welcome, policy prompt and help first
    await connector.wait_for(before + 3)
    other = await ask_by_card(bot, connector, report, user="someone-else")
    assert {i["id"]: i.get("value") for i in other["body"] if i.get("id")}["description"] is None


async def test_a_report_form_filled_in_from_a_message_has_only_its_redacted_copy(bot, connector):
    sent = await ask(bot, connector, "I pasted jo.bloggs@example.com and NI QQ123456C into ChatGPT by mistake", 4)
    report = buttons(sent[3]["attachments"][0]["content"])["Report it now"]  # after the personal data warning
    form = await ask_by_card(bot, connector, report)
    described = {i["id"]: i.get("value") for i in form["body"] if i.get("id")}["description"]
    assert "[email]" in described and "[NI number]" in described
    assert "jo.bloggs@example.com" not in described and "QQ123456C" not in described


async def test_an_incident_the_policy_gives_no_passage_for_still_gets_the_report_form(bot, connector):
    sent = await ask(bot, connector, "the chatbot showed me someone else's conversation", 3)
    card = sent[2]["attachments"][0]["content"]
    assert "That sounds like something to report" in json.dumps(card)
    assert "The policy doesn't cover that" not in json.dumps(card)
    assert {"Report it now", "Ask the governance team"} <= set(buttons(card))


async def test_asking_whether_one_may_do_something_is_not_taken_for_an_incident(bot, connector):
    sent = await ask(bot, connector, "Can I paste a resident's address into ChatGPT?", 3)
    card = sent[2]["attachments"][0]["content"]
    assert "Report it now" not in buttons(card) and "If this has happened" not in json.dumps(card)


async def ask_by_card(bot, connector, data: dict, **changes) -> dict:
    """Press a button; the card it sends (a new message in the chat)."""
    before = len(connector.activities())
    response = await bot.post(card_action(connector, data["verb"], data, **changes))
    assert response.status == 200
    return (await connector.wait_for(before + 1))[before]["attachments"][0]["content"]


async def test_a_mistyped_command_is_offered_the_command_not_a_search(bot, connector):
    await ask(bot, connector, "help", 3)
    sent = await ask(bot, connector, "requst tool", 1)
    card = sent[0]["attachments"][0]["content"]
    assert "Did you mean **request tool**?" in json.dumps(card)
    press = buttons(card)["Request a tool"]
    response = await bot.post(card_action(connector, press["verb"], press))
    assert response.status == 200
    await connector.wait_for_text("Request approval for an AI tool")
    async with bot.services.db.sessions() as session:
        assert (await session.execute(select(QuestionRow))).scalars().all() == []


async def test_an_answer_about_requesting_a_tool_offers_the_request_form(bot, connector):
    sent = await ask(bot, connector, "How do I ask for a new AI tool to be approved?", 3)
    assert "7.3 Requesting approval for a new tool" in sent[2]["text"]
    press = buttons(sent[2]["attachments"][0]["content"])["Request a tool"]
    response = await bot.post(card_action(connector, press["verb"], press))
    assert response.status == 200
    await connector.wait_for_text("Request approval for an AI tool")


async def test_an_answer_that_only_just_clears_the_threshold_says_it_may_not_fit(bot, connector):
    index = (await bot.services.library.current()).index
    threshold = index.settings.answer_threshold
    tentative = next(q for q in ("Can the AI decide if someone gets housing benefit?",
                                 "Is it alright to analyse our survey data with AI?", "Who has to sign off risky uses of AI?")
                     if index.search(q).tentative)
    result = index.search(tentative)
    assert threshold <= result.coverage < threshold + TENTATIVE_MARGIN
    sent = await ask(bot, connector, tentative, 3)
    assert sent[2]["text"].startswith("I'm not sure these passages answer your question")

    confident = "Do I have to tell people that I used AI to write something?"
    assert index.search(confident).coverage >= threshold + TENTATIVE_MARGIN
    sent = await ask(bot, connector, confident, 1)
    assert sent[0]["text"].startswith("Here is what the policy says:")
