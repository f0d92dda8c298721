"""Policy questions in staff's own words, answered by quoting the policy with citations."""

from __future__ import annotations

import structlog

from bot.services import Services
from bot.turn import Message, Turn
from cards.answer import (
    build_answer_actions_card,
    build_not_covered_card,
    build_personal_data_warning_card,
    build_section_card,
    citation_entity,
)
from cards.common import notice_card, safe
from cards.tools import tool_status_line
from domain.chatter import is_chatter
from domain.policy_search import shown_hits
from domain.redact import redact

log = structlog.get_logger(__name__)

MAX_QUESTION_CHARS = 2000


async def answer_question(turn: Turn, services: Services) -> None:
    incoming = turn.incoming
    question = incoming.text.strip()
    if not question or is_chatter(question):
        await turn.reply("Hello! Ask me a question about the GenAI policy in your own words, "
                         "or type **help** to see what else I can do.")
        return
    if len(question) > MAX_QUESTION_CHARS:
        await turn.reply(
            f"That message is {len(question)} characters long; I can read questions of up to {MAX_QUESTION_CHARS}. "
            "Please ask a shorter question."
        )
        return
    redaction = redact(question)
    if redaction.found:
        await turn.reply(Message(cards=[build_personal_data_warning_card(redaction.kinds)], summary="Please don't share personal data"))

    policy = await services.library.current()
    finder = await services.library.tool_finder()
    mentions = finder.find(redaction.text)
    result = policy.index.search(redaction.text)
    shown = shown_hits(result)

    question_id = await services.questions.record(
        user_id=incoming.user_id,
        conversation_id=incoming.conversation.id,
        text=redaction.text,
        redacted=redaction.found,
        policy_version_id=policy.version.id if policy.version else None,
        answered=bool(shown) or bool(mentions),
        passages=[{"section": h.section, "title": h.title, "score": h.score} for h in shown],
    )

    lines: list[str] = [tool_status_line(m.name, m.tool) for m in mentions]
    if not shown and not mentions:
        settings = services.settings
        await turn.reply(
            Message(
                cards=[build_not_covered_card(question_id=question_id, authority_name=settings.genai_authority_name,
                                              authority_contact=settings.genai_authority_contact)],
                summary="The policy doesn't cover that",
            )
        )
        return
    if shown:
        lines.append("Here is what the policy says:" if not mentions else "The policy says:")
        for position, hit in enumerate(shown, start=1):
            lines.append(f"**{hit.section} {safe(hit.title)}** [{position}]: \u201c{safe(hit.text)}\u201d")
    entities = [citation_entity([(h.section, h.title, h.text) for h in shown])] if shown else []
    actions = build_answer_actions_card(
        question_id=question_id,
        sections=[(h.section, h.title) for h in shown],
        version_id=policy.version.id if policy.version else None,
        unregistered_tools=tuple(m.name for m in mentions if m.tool is None),
    )
    # One message: the quoted answer with its citations, and the card of follow-up buttons under it.
    await turn.reply(Message(text="\n\n".join(lines), entities=entities, cards=[actions]))


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
    record = await services.questions.get(question_id)
    await turn.show(await _actions_after(record, services))


async def ask_governance(turn: Turn, services: Services) -> None:
    try:
        question_id = int(turn.incoming.data.get("question"))
    except (TypeError, ValueError):
        question_id = -1
    record = await services.questions.mark_escalated(question_id, turn.incoming.user_id) if question_id >= 0 else None
    settings = services.settings
    if record is None:
        await turn.show(notice_card("I couldn't pass that on", "Only the person who asked can pass this question on."))
        return
    await services.audit.append(turn.incoming.user_id, "question.escalated", f"question:{record.id}", {})
    log.info("question passed to governance", question_id=record.id)
    if record.answered:
        await turn.show(await _actions_after(record, services))
        return
    await turn.show(
        notice_card(
            "Question recorded for the governance team",
            f"I've recorded your question for {settings.genai_authority_name}. For a quicker answer, contact them at "
            f"{safe(settings.genai_authority_contact)} and quote question number {record.id}.",
        ),
    )


async def _actions_after(record, services: Services) -> dict:
    """The answer's buttons again, saying what was done and keeping what is still useful."""
    mentions = (await services.library.tool_finder()).find(record.text)
    return build_answer_actions_card(
        unregistered_tools=tuple(m.name for m in mentions if m.tool is None),
        question_id=record.id,
        sections=[(p["section"], p["title"]) for p in record.passages],
        version_id=record.policy_version_id,
        feedback=record.feedback,
        escalated_to=services.settings.genai_authority_name if record.escalated_at else None,
    )
