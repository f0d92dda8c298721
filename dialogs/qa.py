"""Policy questions in staff's own words, answered by quoting the policy with citations; and what staff say
about the answers (Teams' feedback control, or the card's buttons where there is none)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from bot.services import Services
from bot.turn import Message, Turn
from cards.answer import (
    build_answer_actions_card,
    build_incident_prompt_card,
    build_not_covered_card,
    build_personal_data_warning_card,
    build_section_card,
    citation_entity,
    question_of_answer,
)
from cards.common import notice_card, safe
from cards.help import COMMANDS, build_did_you_mean_card
from cards.tools import tool_status_line
from dialogs.escalations import escalate
from dialogs.welcome import about_me
from domain.chatter import asks_about_the_bot, is_chatter
from domain.incident_talk import tells_of_an_incident
from domain.typos import meant_command
from domain.escalations import clean_comment, is_yes, read_feedback
from domain.policy_search import shown_hits
from domain.redact import redact

log = structlog.get_logger(__name__)

MAX_QUESTION_CHARS = 2000
FEEDBACK_LOOP = {"feedbackLoop": {"type": "default"}}  # Teams' own thumbs up and down, with a comment box


@dataclass(frozen=True)
class Found:
    """A question as recorded, and what the policy and the tools register say about it."""

    question_id: int
    shown: list  # the passages quoted (domain.policy_search.Hit)
    mentions: list  # tools named in it (domain.tools)
    version_id: int | None
    tentative: bool = False  # the best passage only just cleared the threshold: say it may not answer it
    incident: bool = False  # it tells of something that happened (domain/incident_talk.py): offer the report form


async def answer_question(turn: Turn, services: Services) -> None:
    question = turn.incoming.text.strip()
    if await _not_about_the_policy(turn, services, question):
        return
    found = await _checked_and_found(turn, services, question)
    if found is None:
        return
    if found.shown or found.mentions:
        await _reply_with_answer(turn, services, found)
        return
    settings = services.settings
    if found.incident:
        card = build_incident_prompt_card(question_id=found.question_id, authority_name=settings.genai_authority_name)
        await turn.reply(Message(cards=[card], summary="That sounds like something to report"))
        return
    card = build_not_covered_card(question_id=found.question_id, authority_name=settings.genai_authority_name,
                                  authority_contact=settings.genai_authority_contact)
    await turn.reply(Message(cards=[card], summary="The policy doesn't cover that"))


async def _not_about_the_policy(turn: Turn, services: Services, question: str) -> bool:
    """Answer, without searching or recording anything, a greeting or thanks, a question about the bot itself and a
    mistyped command; True if it was one of those."""
    if not question or is_chatter(question):
        await turn.reply("Hello! Ask me a question about the GenAI policy in your own words, "
                         "or type **help** to see what else I can do.")
        return True
    if asks_about_the_bot(question):
        await about_me(turn, services)
        return True
    meant = meant_command(question, (info.command for info in COMMANDS))
    if meant is not None:
        await turn.reply(Message(cards=[build_did_you_mean_card(meant)], summary=f"Did you mean {meant}?"))
        return True
    return False


async def ask_a_person(turn: Turn, services: Services) -> None:
    """`ask a person [anonymously] <question>`: recorded with what the policy offers, and passed straight to the
    governance team (without the asker's name on their card, if asked so)."""
    question = turn.argument.strip()
    anonymous = question.lower().startswith("anonymously")
    question = question[len("anonymously"):].strip(" :-,") if anonymous else question
    if not question:
        await turn.reply("Type **ask a person** followed by your question, and I'll pass it to "
                         f"{services.settings.genai_authority_name}.")
        return
    found = await _checked_and_found(turn, services, question)
    if found is not None:
        card = await escalate(turn, services, found.question_id, reason="asked", anonymous=anonymous)
        await turn.reply(Message(cards=[card], summary="Passed to the governance team"))


async def _checked_and_found(turn: Turn, services: Services, question: str) -> Found | None:
    """Refuse an over-long question, warn about personal data, then search and record the redacted question."""
    if len(question) > MAX_QUESTION_CHARS:
        await turn.reply(
            f"That message is {len(question)} characters long; I can read questions of up to {MAX_QUESTION_CHARS}. "
            "Please ask a shorter question."
        )
        return None
    redaction = redact(question)
    if redaction.found:
        await turn.reply(Message(cards=[build_personal_data_warning_card(redaction.kinds)], summary="Please don't share personal data"))
    policy = await services.library.current()
    mentions = (await services.library.tool_finder()).find(redaction.text)
    result = policy.index.search(redaction.text)
    shown = shown_hits(result)
    version_id = policy.version.id if policy.version else None
    question_id = await services.questions.record(
        user_id=turn.incoming.user_id, conversation_id=turn.incoming.conversation.id, text=redaction.text,
        redacted=redaction.found, policy_version_id=version_id, answered=bool(shown) or bool(mentions),
        passages=[{"section": h.section, "title": h.title, "score": h.score, "text": h.text} for h in shown],
    )
    # Read from the text as stored, as the answer's buttons are drawn again later (_actions_after).
    return Found(question_id, shown, mentions, version_id, result.tentative, tells_of_an_incident(redaction.text))


async def _reply_with_answer(turn: Turn, services: Services, found: Found) -> None:
    shown, mentions = found.shown, found.mentions
    lines: list[str] = [tool_status_line(m.name, m.tool) for m in mentions]
    if shown:
        lines.append(_lead_in(found))
        for position, hit in enumerate(shown, start=1):
            lines.append(f"**{hit.section} {safe(hit.title)}** [{position}]: \u201c{safe(hit.text)}\u201d")
    entities = [citation_entity([(h.section, h.title, h.text) for h in shown])] if shown else []
    feedback_loop = getattr(services.outbound, "feedback_loop", False)
    actions = build_answer_actions_card(
        question_id=found.question_id, sections=[(h.section, h.title) for h in shown], version_id=found.version_id,
        unregistered_tools=tuple(m.name for m in mentions if m.tool is None), rating_buttons=not feedback_loop,
        tells_of_incident=found.incident,
    )

    async def remember(activity_id: str | None) -> None:
        await services.questions.note_answer_sent(found.question_id, activity_id)

    # One message: the quoted answer with its citations, and the card of follow-up buttons under it.
    message = Message(text="\n\n".join(lines), entities=entities, cards=[actions],
                      channel_data=FEEDBACK_LOOP if feedback_loop else None)
    await turn.reply(message, when_sent=remember if feedback_loop else None)


def _lead_in(found: Found) -> str:
    if found.tentative:
        return ("I'm not sure these passages answer your question, so please check them. If they don't, pass it "
                "to the governance team with the button below.")
    return "The policy says:" if found.mentions else "Here is what the policy says:"


async def show_section(turn: Turn, services: Services) -> None:
    number = str(turn.incoming.data.get("section") or "")[:20]
    policy = await services.library.current()
    section = policy.document.section(number)
    if section is None:
        card = notice_card("Section not found", f"The current policy has no section {safe(number)}.")
    else:
        stale = turn.incoming.data.get("version") not in (None, policy.version.id if policy.version else None)
        label = policy.version.label if policy.version else None
        text = safe(section.full_text()) + ("\n\n*A newer policy version has been published since this answer; this is the current text.*" if stale else "")
        card = build_section_card(number=section.number, title=safe(section.title), text=text, version_label=label)
    await turn.reply(Message(cards=[card], summary=f"Policy section {number}"))
    if turn.incoming.is_card_action:
        turn.respond_with_text(f"Section {number} is below.")


async def record_feedback(turn: Turn, services: Services) -> None:
    """Helpful / Not helpful on the card (where Teams' feedback control isn't available). Not helpful passes the
    question to the governance team with the comment."""
    data = turn.incoming.data
    value = data.get("value")
    try:
        question_id = int(data.get("question"))
    except (TypeError, ValueError):
        question_id = -1
    if value not in ("helpful", "not_helpful") or question_id < 0:
        await turn.show(notice_card("I couldn't record that", "That feedback button is not one I recognise."))
        return
    if not await services.questions.set_feedback(question_id, turn.incoming.user_id, value):
        await turn.show(notice_card("I couldn't record that", "Only the person who asked can rate this answer."))
        return
    if value == "not_helpful":
        await turn.show(await escalate(turn, services, question_id, reason="not_helpful",
                                       comment=clean_comment(data.get("comment")), anonymous=is_yes(data.get("anonymous"))))
        return
    record = await services.questions.get(question_id)
    await turn.show(await _actions_after(record, services))


async def teams_feedback(turn: Turn, services: Services) -> None:
    """Teams' feedback control on an answer (invoke message/submitAction), answered 200 with an empty body.
    A like records "helpful"; a dislike passes the question to the governance team with the comment."""
    turn.invoke_response = {"statusCode": 200}
    incoming = turn.incoming
    feedback = read_feedback(incoming.data)
    if feedback is None:
        return
    question = await _answered_in(services, incoming.reply_to_id)
    if question is None or question.user_id != incoming.user_id:
        # Not an answer we can match to its asker (or someone else's): kept in the audit trail, not lost.
        await services.audit.append(incoming.user_id, "question.feedback_unmatched", f"message:{incoming.reply_to_id}"[:200],
                                    {"helpful": feedback.helpful},
                                    private={"comment": feedback.comment} if feedback.comment else None)
        return
    await services.questions.set_feedback(question.id, incoming.user_id, "helpful" if feedback.helpful else "not_helpful")
    if not feedback.helpful:
        card = await escalate(turn, services, question.id, reason="not_helpful", comment=feedback.comment)
        await turn.reply(Message(cards=[card], summary="Passed to the governance team"))


async def _answered_in(services: Services, activity_id: str | None):
    """The question whose answer is this message: recorded when the answer was sent, or, for an answer that had
    to wait in the outbox, read back from the message as it was delivered."""
    question = await services.questions.by_answer(activity_id)
    if question is None and activity_id:
        entry = await services.outbox.sent_as(activity_id[:200])
        number = question_of_answer(entry.activity) if entry is not None and entry.key.startswith("reply:") else None
        question = await services.questions.get(number) if number is not None else None
    return question


async def _actions_after(record, services: Services) -> dict:
    """The answer's buttons again, saying what was done and keeping what is still useful."""
    mentions = (await services.library.tool_finder()).find(record.text)
    return build_answer_actions_card(
        unregistered_tools=tuple(m.name for m in mentions if m.tool is None),
        question_id=record.id,
        sections=[(p["section"], p["title"]) for p in record.passages],
        version_id=record.policy_version_id,
        feedback=record.feedback,
        escalated=record.reference,
        rating_buttons=not getattr(services.outbound, "feedback_loop", False),
        tells_of_incident=tells_of_an_incident(record.text),
    )
