"""Questions passed to the governance team: the card in their channel (or 1:1), their responses, and the reply
the asker gets 1:1. Routing and delivery are the incidents' (bot/outbound/recipients.py and the outbox)."""

from __future__ import annotations

import structlog

from bot.outbound.recipients import (
    Recipient, activity_for, nowhere, person, sender_chat, team, teams_ids_for, told_if_failed, updates_of_sent_cards,
)
from bot.services import Services
from bot.turn import Message, Turn
from cards.answer import citation_entity
from cards.common import notice_card, safe, with_notice
from cards.escalation import (
    build_already_passed_on_card, build_escalation_card, build_escalation_receipt_card, build_response_text,
)
from cards.routing import routes_of
from dialogs import guards
from domain.pairings import PairingRefused
from domain.escalations import SECTION_NUMBER, Reply, ResponseRefused, clean_comment, is_yes, read_reply
from domain.records import Notification, QuestionRecord
from storage.questions import AlreadyPassedOn, NotTheAsker, StaleEscalation

log = structlog.get_logger(__name__)


async def escalate(turn: Turn, services: Services, question_id: int, *, reason: str, comment: str | None = None,
                   anonymous: bool = False) -> dict:
    """Pass the asker's question on, and return the card that tells them where it went (decided from the
    outbox entries actually created), or that nobody could be reached."""
    incoming, settings = turn.incoming, services.settings
    teams = await team(services, "governance", settings.governance_ids)
    refresh = {r.name: await teams_ids_for(services, settings.governance_ids, r.conversation)
               for r in teams if r.user_id is None and r.conversation is not None}
    asker = await sender_chat(services, incoming.user_id, incoming.conversation)
    try:
        async with services.questions.escalate(question_id, incoming.user_id, asker_name=incoming.user_name,
                                               anonymous=anonymous, reason=reason, comment=comment) as change:
            change.queue(_card_for(change.record, r, refresh.get(r.name), asker, services) for r in teams)
    except NotTheAsker:
        return notice_card("I couldn't pass that on", "Only the person who asked can pass this question on.")
    except AlreadyPassedOn as passed:
        return build_already_passed_on_card(passed.question)
    question = change.record
    services.deliver_soon()
    log.info("question passed to governance", reference=question.reference, reason=reason)
    routes = routes_of(change.notifications, {"governance": settings.genai_authority_name})
    return build_escalation_receipt_card(question, routes=routes, contact=settings.genai_authority_contact,
                                         authority_name=settings.genai_authority_name)


def _card_for(question: QuestionRecord, recipient: Recipient, refresh_ids: list[str] | None, asker: Recipient,
              services: Services) -> Notification:
    card = build_escalation_card(question, member_view=recipient.user_id is not None, refresh_user_ids=refresh_ids)
    undelivered = told_if_failed(
        f"question:{question.reference}:undelivered:{recipient.name}", asker,
        f"I couldn't deliver your question **{question.reference}** to {services.settings.genai_authority_name}: Teams "
        f"refused the message. It is saved, but they may not have seen it. Please email "
        f"{safe(services.settings.genai_authority_contact)} quoting {question.reference}.")
    return Notification(f"question:{question.reference}:card:{recipient.name}", recipient.conversation or nowhere(recipient.name),
                        activity_for(Message(cards=[card], summary=f"Staff question {question.reference}"), recipient),
                        undeliverable=recipient.problem, if_failed=undelivered)


async def pass_on(turn: Turn, services: Services) -> None:
    """"Ask the governance team" on an answer or on the not-covered card."""
    data = turn.incoming.data
    try:
        question_id = int(data.get("question"))
    except (TypeError, ValueError):
        await turn.show(notice_card("I couldn't pass that on", "That button is not one I recognise."))
        return
    await turn.show(await escalate(turn, services, question_id, reason="asked", comment=clean_comment(data.get("comment")),
                                   anonymous=is_yes(data.get("anonymous"))))


async def respond(turn: Turn, services: Services) -> None:
    """A governance member's response on the card (the route is GOVERNANCE_ANSWERERS_ONLY). The first one wins."""
    data = turn.incoming.data
    question = await services.questions.by_reference(guards.reference(turn))
    if question is None:
        await turn.show(notice_card("Question not found", f"There is no question {safe(guards.reference(turn))}."))
        return
    if not question.waiting:  # a retried click, or a second member after the first
        await turn.show(with_notice(build_escalation_card(question), "This question has already been answered."))
        return
    try:
        reply = read_reply(guards.action(turn), data, len(question.passages))
        response = await _response(services, question, reply)
        version = int(data.get("version"))
    except ResponseRefused as refused:
        await turn.show(with_notice(build_escalation_card(question), str(refused)))
        return
    except (TypeError, ValueError):
        version = -1
    await _record(turn, services, question, reply.action, response, version)


async def _record(turn: Turn, services: Services, question: QuestionRecord, status: str, response: dict, version: int) -> None:
    incoming = turn.incoming
    asker = await person(services, question.user_id, question.user_id)
    originals = await services.outbox.entries(prefix=f"question:{question.reference}:card:")
    try:
        async with services.questions.respond(question.reference, version=version, status=status, response=response,
                                              actor_id=incoming.user_id, actor_name=incoming.user_name) as change:
            updated = change.record
            change.queue(updates_of_sent_cards(
                originals, f"question:{updated.reference}:v{updated.version}:card:",
                lambda user, ids: build_escalation_card(updated, member_view=user is not None, refresh_user_ids=ids)))
            change.queue([_reply_to_asker(updated, asker, services)])
    except StaleEscalation:
        current = await services.questions.by_reference(question.reference)
        await turn.show(with_notice(build_escalation_card(current), "Someone else answered this question first; "
                                                                    "this is their answer."))
        return
    services.deliver_soon()
    card = build_escalation_card(updated)
    untaught = await _teach(services, updated, incoming.user_id) if status == "passage" else None
    if untaught:
        card = with_notice(card, f"I couldn't keep this pairing for later questions: {untaught}.")
    if asker.conversation is None:
        card = with_notice(card, "The person who asked has no chat with this bot, so I couldn't send them this answer.")
    await turn.show(card)


async def _teach(services: Services, question: QuestionRecord, actor_id: str) -> str | None:
    """The bot learns: the question becomes another way of asking for the chosen passage, so later questions
    worded like it find that passage first. Returns why it couldn't, if it couldn't."""
    response = question.response or {}
    if response.get("policy_version_id") is None:
        return "no policy version is published"
    try:
        await services.pairings.teach(question=question.text, policy_version_id=response["policy_version_id"],
                                      section=response.get("section") or response.get("title", ""), passage_index=None,
                                      passage_text=response.get("text"), actor=actor_id, source="governance")
    except PairingRefused as refused:
        log.warning("could not teach the pairing", reference=question.reference, reason=str(refused))
        return str(refused)
    return None


def _reply_to_asker(question: QuestionRecord, asker: Recipient, services: Services) -> Notification:
    response = question.response or {}
    entities = [citation_entity([(response["section"], response["title"], response["text"])])] \
        if question.escalation_status == "passage" else []
    message = Message(text=build_response_text(question, authority_name=services.settings.genai_authority_name),
                      entities=entities, summary=f"An answer to your question {question.reference}")
    return Notification(f"question:{question.reference}:response", asker.conversation or nowhere(asker.name),
                        activity_for(message, asker), undeliverable=asker.problem)


async def _response(services: Services, question: QuestionRecord, reply: Reply) -> dict:
    """What is stored and sent: the chosen passage as the current policy words it, or the member's words."""
    if reply.action != "passage":
        return {"text": reply.text} if reply.text else {}
    policy = await services.library.current()
    if reply.offered is not None:
        offered = question.passages[reply.offered]
        hit = policy.index.best_in_section(question.text, str(offered.get("section")), offered.get("text"))
        if hit is None:
            raise ResponseRefused(f"Section {offered.get('section')} is no longer in the current policy. "
                                  "Please give a section number or a few words to search for.")
    elif SECTION_NUMBER.match(reply.search):
        hit = policy.index.best_in_section(question.text, reply.search)
        if hit is None:
            raise ResponseRefused(f"The current policy has no section {reply.search}.")
    else:
        hits = policy.index.search(reply.search, limit=1).hits
        if not hits:
            raise ResponseRefused(f"Nothing in the current policy matches \u201c{reply.search}\u201d. Try other words "
                                  "or a section number.")
        hit = hits[0]
    return {"section": hit.section, "title": hit.title, "text": hit.text,
            "policy_version_id": policy.version.id if policy.version else None}


async def open_card(turn: Turn, services: Services) -> None:
    """A governance member types "open question Q-2026-0001" (the route is GOVERNANCE_ANSWERERS_ONLY): the question's
    card again, with its buttons, where they are. The first card may be far up a busy channel, or in a terminal chat
    that has since been restarted; answering on this copy updates every copy, as answering on the first does."""
    question = await guards.typed_record(turn, services.questions.by_reference, command="open question",
                                         example="Q-2026-0001", noun="question passed on",
                                         where="The questions report lists the escalations waiting.")
    if question is None:
        return
    mine = turn.incoming.own_refresh_ids
    await turn.show(build_escalation_card(question, refresh_user_ids=mine))


async def refresh(turn: Turn, services: Services) -> None:
    """Teams asks for someone's own view of the card (Universal Actions refresh). Anyone can send this invoke,
    naming any reference, so the question is shown only to the governance team and to the person who asked."""
    incoming = turn.incoming
    reference = guards.reference(turn)
    question = await services.questions.by_reference(reference)
    if incoming.user_id in services.settings.governance_ids:
        if question is None:
            turn.respond_with_card(notice_card("Question not found", "This question is no longer kept."))
            return
        mine = incoming.own_refresh_ids
        turn.respond_with_card(build_escalation_card(question, refresh_user_ids=mine))
        return
    if question is not None and question.user_id == incoming.user_id:
        turn.respond_with_card(build_escalation_card(question, member_view=False))
        return
    await guards.refuse(turn, services, f"question:{reference}",
                        notice_card("You can't see this question", "Only the GenAI governance team, and the person "
                                    "who asked, can see it."),
                        detail={"action": "refresh"}, as_invoke_response=True)
