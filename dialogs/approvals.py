"""request tool, my requests, and the governance authority's decisions on the approvers' card (policy 4 and 7)."""

from __future__ import annotations

import structlog

from bot.microsoft.approvers import DirectoryUnavailable
from bot.outbound.recipients import (
    Recipient, notification_to, sender_chat, team, teams_ids_for, to_personal_chat, told_if_failed,
    updates_of_sent_cards,
)
from bot.services import Services
from bot.turn import Message, Turn
from cards.approval import (
    build_answered_card, build_approval_card,
    build_decision_text, build_my_requests_card, build_question_card, build_receipt_card, build_request_form_card,
)
from cards.common import notice_card, safe, with_notice
from cards.routing import routes_of
from cards.verbs import VERB_REQUEST_TOOL
from dialogs import guards
from domain.approvals import (
    ACTIONS, FINAL_STATUSES, LIMITS, STATUSES, Decision, DecisionRefused, decide, may_decide, validate_answer, validate_request,
)
from domain.records import ApprovalRequest, ConversationRef, Notification, OutboxEntry
from domain.times import card_when
from storage.approvals import StaleRequest

log = structlog.get_logger(__name__)

REQUEST_COMMANDS = ("request tool", "request a tool", "request approval", "request an ai tool", "new tool request")
NOTE_INPUT = {"approve_conditions": "conditions", "reject": "reason", "ask": "question"}
CARD_KEY = "approval:{reference}:card:"
OPEN_WHERE = "The reference is on the request's card, and in the requester's receipt."


async def show_form(turn: Turn, services: Services) -> None:
    incoming = turn.incoming
    if incoming.verb == VERB_REQUEST_TOOL:
        tool = incoming.data.get("tool_name") if isinstance(incoming.data.get("tool_name"), str) else ""
    else:
        tool = turn.argument
    card = build_request_form_card({"tool_name": tool[:LIMITS["tool_name"]]} if tool else None,
                                   authority_name=services.settings.genai_authority_name)
    await turn.show_below(card, summary="Request approval for an AI tool", clicked="The request form is below.")


async def _approvers(services: Services) -> tuple[list[Recipient], list[str]]:
    """Where approval cards go, and the approvers' Teams ids for a channel card's refresh."""
    approver_ids = await services.approvers.all()
    recipients = await team(services, "governance", approver_ids,
                            setting="APPROVER_IDS (nor an APPROVER_GROUP_ID with members)")
    channel = next((r.conversation for r in recipients if r.user_id is None and r.conversation), None)
    return recipients, await teams_ids_for(services, approver_ids, channel)


def _card_for(request: ApprovalRequest, recipient_user: str | None, refresh_ids: list[str] | None) -> dict:
    """A 1:1 card shows the approver's buttons at once; a channel card shows them only through refresh."""
    approver_view = recipient_user is not None and recipient_user != request.requester_id
    return build_approval_card(request, approver_view=approver_view, refresh_user_ids=refresh_ids)


async def submit_request(turn: Turn, services: Services) -> None:
    incoming = turn.incoming
    form, errors = validate_request(incoming.data)
    if form is None:
        await turn.show(build_request_form_card(incoming.data, errors, authority_name=services.settings.genai_authority_name))
        return
    recipients, refresh_ids = await _approvers(services)
    requester = await sender_chat(services, incoming.user_id, incoming.conversation)
    contact = safe(services.settings.genai_authority_contact)
    async with services.approvals.create(form, requester_id=incoming.user_id, requester_name=incoming.user_name) as change:
        change.queue(_approver_cards(change.record, recipients, refresh_ids, requester, contact))
    request = change.record
    services.deliver_soon()
    log.info("tool requested", reference=request.reference, classification=request.data_classification)
    if not any(r.conversation for r in recipients):
        log.warning("tool request could not be routed to any approver", reference=request.reference,
                    problems=[r.problem for r in recipients])
    routes = routes_of(change.notifications, {"governance": f"the approvers at {services.settings.genai_authority_name}"})
    await turn.show(build_receipt_card(request, routes=routes, contact=services.settings.genai_authority_contact))


def _approver_cards(request: ApprovalRequest, recipients: list[Recipient], refresh_ids: list[str],
                    requester: Recipient, contact: str) -> list[Notification]:
    """The request's card for each approver (or their channel); what the receipt says is decided from these."""
    # The receipt says the request is with the approvers: if their card can't be delivered, say it isn't.
    undelivered = told_if_failed(
        f"approval:{request.reference}:undelivered", requester,
        f"I couldn't deliver your request **{request.reference}** to the approvers: Teams refused the message. "
        f"Your request is saved and nothing you sent was lost, but the approvers may not have seen it. Please email "
        f"{contact} quoting {request.reference}, so that they can decide it.")
    return [notification_to(r, CARD_KEY.format(reference=request.reference) + r.name,
                            Message(cards=[_card_for(request, r.user_id, refresh_ids)],
                                    summary=f"AI tool request {request.reference}: {request.tool_name}"),
                            if_failed=undelivered)
            for r in recipients]


async def my_requests(turn: Turn, services: Services) -> None:
    requests = await services.approvals.for_requester(turn.incoming.user_id)
    await turn.reply(Message(cards=[build_my_requests_card(requests)], summary="Your tool requests"))


async def refresh(turn: Turn, services: Services) -> None:
    """Teams asks for someone's own view of an approvers' card (Universal Actions refresh). Anyone can send
    this invoke, naming any reference, so it shows the request only to the approvers and its requester."""
    incoming = turn.incoming
    reference = guards.reference(turn)
    request = await services.approvals.get(reference)
    mine = incoming.own_refresh_ids
    if request is not None and request.requester_id == incoming.user_id:
        turn.respond_with_card(build_approval_card(request, approver_view=False, refresh_user_ids=mine))
        return
    try:
        allowed = await services.approvers.is_approver(incoming.user_id)
    except DirectoryUnavailable:
        turn.respond_with_card(notice_card("I couldn't check that just now",
                                           "I couldn't check the approvers group, so I can't show this request yet. "
                                           "Please try again in a minute."))
        return
    if not allowed:
        # The same answer whether or not the reference exists, so references can't be probed.
        await guards.refuse(turn, services, f"approval:{reference}",
                            notice_card("You can't see this tool request",
                                        "Only the approvers of AI tool requests, and the person who made the "
                                        "request, can see it."),
                            detail={"action": "refresh"}, as_invoke_response=True)
        return
    if request is None:
        turn.respond_with_card(notice_card("Request not found", "This tool request no longer exists."))
        return
    turn.respond_with_card(build_approval_card(request, approver_view=True, refresh_user_ids=mine))


async def open_card(turn: Turn, services: Services) -> None:
    """An approver types "open request REQ-2026-0001", or presses its Open button on the list of requests waiting (the
    route is APPROVERS_ONLY): the request's card again, where they are, below the list. The first may be far up a busy
    channel, or in a terminal chat since restarted. While the request is pending it has the decision buttons (not for
    the approver who asked for it), and deciding on this copy updates every copy, as on the first; once decided, it
    shows the decision."""
    request = await guards.typed_record(turn, services.approvals.get, command="open request", example="REQ-2026-0001",
                                        noun="tool request", where=OPEN_WHERE)
    if request is None:
        return
    mine = turn.incoming.own_refresh_ids
    await turn.show_below(_card_for(request, turn.incoming.user_id, mine),
                          summary=f"AI tool request {request.reference}: {request.tool_name}",
                          clicked=f"The card of {request.reference} is below.")


def _decided_view(request: ApprovalRequest, actor_id: str, action: str) -> dict:
    """The final card; with "Already … by X at T" unless this is the decider's own click arriving again."""
    card = build_approval_card(request, approver_view=False)
    if request.decided_by_id == actor_id and request.status == ACTIONS.get(action):
        return card  # Teams retried the invoke: same answer, nothing new
    when = f" at {card_when(request.decided_at)}" if request.decided_at else ""
    return with_notice(card, f"Already {STATUSES[request.status].lower()} by "
                             f"{request.decided_by_name or request.decided_by_id}", then=f"{when}.")


def _current_view(request: ApprovalRequest, actor_id: str, action: str, notice: str) -> dict:
    """A decided request's final card, or a pending one's with the notice saying why nothing changed."""
    if request.status in FINAL_STATUSES:
        return _decided_view(request, actor_id, action)
    return with_notice(build_approval_card(request, approver_view=True), notice)


async def _may_decide(turn: Turn, services: Services, request: ApprovalRequest, action: str) -> bool:
    """Approvers only, and never their own request; otherwise the refusal is shown (and audited)."""
    user_id = turn.incoming.user_id
    try:
        allowed = await services.approvers.is_approver(user_id)
    except DirectoryUnavailable:
        await turn.show(with_notice(build_approval_card(request, approver_view=False),
                                    "I couldn't check the approvers group just now, so nothing was changed. "
                                    "Please try again in a minute."))
        return False
    refusal = may_decide(user_id, request.requester_id, allowed)
    if refusal:
        await guards.refuse(turn, services, f"approval:{request.reference}",
                            with_notice(build_approval_card(request, approver_view=False), refusal),
                            detail={"action": action[:40]})
        return False
    return True


async def decide_request(turn: Turn, services: Services) -> None:
    incoming = turn.incoming
    data = incoming.data
    reference, action = guards.reference(turn), guards.action(turn)
    request = await guards.named_record(turn, services.approvals.get, "Request not found", "tool request")
    if request is None:
        return
    if not await _may_decide(turn, services, request, action):
        return
    try:
        decision = decide(request.status, action, data.get(NOTE_INPUT.get(action, "")))
        version = int(data.get("version"))
    except DecisionRefused as refused:
        await turn.show(_current_view(request, incoming.user_id, action, str(refused)))
        return
    except (TypeError, ValueError):
        version = -1
    originals = await services.outbox.entries(prefix=CARD_KEY.format(reference=reference))
    requester = await services.conversations.personal_for(request.requester_id)
    try:
        async with services.approvals.decide(reference, version=version, decision=decision, actor_id=incoming.user_id,
                                             actor_name=incoming.user_name) as change:
            change.queue(_decision_notices(originals, change.record, decision, requester))
    except StaleRequest:
        await turn.show(_current_view(await services.approvals.get(reference), incoming.user_id, action,
                                      "Someone acted on this request first; this is its current state."))
        return
    updated = change.record
    if updated.status in ("approved", "approved_with_conditions"):
        services.library.forget_tools()
    services.deliver_soon()
    log.info("tool request decided", reference=reference, action=decision.action, status=updated.status)
    mine = incoming.own_refresh_ids
    await turn.show(build_approval_card(updated, approver_view=True, refresh_user_ids=mine))


def _decision_notices(originals: list[OutboxEntry], updated: ApprovalRequest, decision: Decision,
                      requester: ConversationRef | None) -> list[Notification]:
    """Every approvers' card updated; the requester told the decision, or asked the approver's question."""
    told = (Message(cards=[build_question_card(updated)], summary=f"A question about {updated.reference}")
            if decision.status is None else Message(text=build_decision_text(updated)))
    return [*_card_updates(originals, updated),
            to_personal_chat(f"approval:{updated.reference}:v{updated.version}:requester", requester,
                             updated.requester_id, told, "requester")]


def _card_updates(originals: list[OutboxEntry], updated: ApprovalRequest) -> list[Notification]:
    """Update in place every approvers' card that went out for this request."""
    return updates_of_sent_cards(originals, f"approval:{updated.reference}:v{updated.version}:card:",
                                 lambda user, refresh_ids: _card_for(updated, user, refresh_ids))


async def answer_question(turn: Turn, services: Services) -> None:
    incoming = turn.incoming
    request = await services.approvals.get(guards.reference(turn))
    if request is None or request.requester_id != incoming.user_id:
        await turn.show(notice_card("I couldn't send that", "Only the person who made this request can answer its questions."))
        return
    if request.status != "pending" or request.open_question is None:
        await turn.show(notice_card(f"Nothing to answer on {request.reference}",
                                    "This request has no open question now. Type **my requests** to see where it stands."))
        return
    answer, problem = validate_answer(incoming.data)
    if answer is None:
        typed = incoming.data.get("answer") if isinstance(incoming.data.get("answer"), str) else None
        await turn.show(build_question_card(request, typed_answer=typed, error=problem))
        return
    try:
        version = int(incoming.data.get("version"))
    except (TypeError, ValueError):
        version = -1
    originals = await services.outbox.entries(prefix=CARD_KEY.format(reference=request.reference))

    try:
        async with services.approvals.answer(request.reference, version=version, requester_id=incoming.user_id,
                                             answer=answer) as change:
            change.queue(_card_updates(originals, change.record))
    except StaleRequest:
        current = await services.approvals.get(request.reference)
        if current.status == "pending" and current.open_question:
            await turn.show(with_notice(build_question_card(current, typed_answer=answer),
                                        "The approvers changed their question; your answer is still here to send."))
        else:
            await turn.show(notice_card(f"Nothing to answer on {current.reference}",
                                        "This request has changed since the question was asked. Type **my requests** to see where it stands."))
        return
    services.deliver_soon()
    await turn.show(build_answered_card(change.record))
