"""Cards for AI tool requests: the form, the receipt, the approvers' card in its three views, and the question card."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from microsoft_teams.cards import Choice, ChoiceSetInput, Container, Fact, FactSet, ShowCardAction, TextInput

from cards.common import (
    button, card, field_error, form_button, form_notice, heading, para, refresh_for, safe, to_dict, typed,
)
from cards.verbs import VERB_ANSWER, VERB_DECIDE, VERB_REFRESH, VERB_REQUEST_SUBMIT
from cards.fit import Echo, fit
from cards.routing import Route, routing_text
from domain.approvals import CATEGORIES, DATA_CLASSIFICATIONS, LIMITS, STATUSES, consequences
from domain.records import ApprovalRequest
from domain.times import card_day, card_when


STATUS_STYLE = {"pending": "accent", "approved": "good", "approved_with_conditions": "warning", "rejected": "attention"}


def _choices(options: dict) -> list[Choice]:
    return [Choice(title=title, value=value) for value, title in options.items()]


def build_request_form_card(values: dict | None = None, errors: dict | None = None, *, authority_name: str) -> dict:
    """The request form; after a failed submission it comes back with everything typed and each problem named."""
    return fit(lambda echo: _request_form(values, errors or {}, authority_name, echo))


def _request_form(values: dict | None, errors: dict, authority_name: str, echo: Echo) -> dict:
    def text_input(name: str, label: str, *, multiline: bool = True, required: bool = True, placeholder: str | None = None):
        return [TextInput(id=name, label=label, is_multiline=multiline or None, is_required=required or None,
                          max_length=LIMITS[name], placeholder=placeholder, value=echo.value(typed(values, name))),
                *field_error(errors, name)]

    body = [
        heading("Request approval for an AI tool"),
        para(f"Any AI tool not on the approved list is presumed unauthorised (policy section 4). Tell "
             f"{safe(authority_name)} what you want to use and how; they decide here in Teams (policy section 7).",
             subtle=True),
    ]
    fields = [
        *text_input("tool_name", "Which AI tool?", multiline=False, placeholder="e.g. Otter.ai, Gemini, a supplier's product"),
        *text_input("purpose", "What do you want to use it for?"),
        ChoiceSetInput(id="data_classification", label="The most sensitive data you would put into it", is_required=True,
                       choices=_choices(DATA_CLASSIFICATIONS), value=typed(values, "data_classification")),
        *field_error(errors, "data_classification"),
        *text_input("data_description", "What data is that? Describe it", placeholder="e.g. anonymised survey answers"),
        *text_input("expected_output", "What do you expect it to produce?"),
        *text_input("output_use", "How will the output be used or shared?"),
        ChoiceSetInput(id="category", label="What kind of tool is it?", is_required=True, choices=_choices(CATEGORIES),
                       value=typed(values, "category")),
        *field_error(errors, "category"),
        *text_input("vendor_url", "The tool's or supplier's web address (optional)", multiline=False, required=False,
                    placeholder="https://"),
    ]
    body.extend(form_notice(shortened=echo.shortened, errors=errors))
    return to_dict(card(body + fields, [button("Send request", VERB_REQUEST_SUBMIT, style="positive")],
                        fallback_text="Request approval for an AI tool"))


def _request_facts(request: ApprovalRequest, echo: Echo) -> FactSet:
    facts = [
        Fact(title="Reference", value=request.reference),
        Fact(title="Status", value=STATUSES[request.status]),
        Fact(title="Requested by", value=echo(request.requester_name or request.requester_id)),
        Fact(title="Requested", value=card_when(request.requested_at)),
        Fact(title="Tool", value=echo(request.tool_name)),
        Fact(title="Kind of tool", value=CATEGORIES[request.category]),
        Fact(title="Purpose", value=echo(request.purpose)),
        Fact(title="Data", value=f"{DATA_CLASSIFICATIONS[request.data_classification]}: {echo(request.data_description)}"),
        Fact(title="Expected output", value=echo(request.expected_output)),
        Fact(title="Use of output", value=echo(request.output_use)),
    ]
    if request.vendor_url:
        facts.append(Fact(title="Web address", value=echo(request.vendor_url)))
    return FactSet(facts=facts)


def _consequences(request: ApprovalRequest) -> list:
    items = [para("**What the policy requires**", spacing="Medium")]
    for found in consequences(request.data_classification, request.category):
        items.append(para(f"**{found.title}.** {found.text}", spacing="Small"))
    return [Container(style="emphasis", items=items)]


def _thread(request: ApprovalRequest, echo: Echo) -> list:
    shown, _ = echo.last(request.thread[-6:])
    earlier = len(request.thread) - len(shown)
    lines = [para(f"Earlier questions and answers not shown here: {earlier}.", subtle=True)] if earlier else []
    for entry in shown:
        who = echo(entry.get("by"))
        when = entry_time(entry)
        label = "❓ Question from" if entry.get("kind") == "question" else "💬 Answer from"
        lines.append(para(f"{label} {who} ({when}): {echo(entry.get('text'))}", subtle=entry.get("kind") == "answer"))
    return lines


def entry_time(entry: dict) -> str:
    """When a question or answer on the request was written, for a card (Teams localises it)."""
    try:
        return card_when(datetime.fromisoformat(str(entry.get("at"))))
    except ValueError:
        return ""


def _outcome(request: ApprovalRequest, echo: Echo) -> list:
    if request.status == "pending":
        waiting = ("Waiting for the requester to answer the approvers' question." if request.open_question
                   else "Waiting for the approvers' decision.")
        return [para(waiting, subtle=True)]
    when = card_when(request.decided_at) if request.decided_at else ""
    verb = {"approved": "Approved", "approved_with_conditions": "Approved with conditions", "rejected": "Rejected"}[request.status]
    items = [para(f"**{verb}** by {echo(request.decided_by_name or request.decided_by_id)} on {when}")]
    if request.decision_note:
        label = "Reason" if request.status == "rejected" else "Conditions"
        items.append(para(f"{label}: {echo(request.decision_note)}"))
    return [Container(style=STATUS_STYLE[request.status], items=items)]


def _decision_form(title: str, input_id: str, label: str, submit: str, action: str, data: dict) -> ShowCardAction:
    inputs = [TextInput(id=input_id, label=label, is_multiline=True, is_required=True, max_length=LIMITS["note"])]
    return form_button(title, inputs, submit, VERB_DECIDE, {**data, "action": action})


def build_approval_card(request: ApprovalRequest, *, approver_view: bool, refresh_user_ids: list[str] | None = None) -> dict:
    """The approvers' card. Approvers see the decision buttons; everyone else, and everyone after a decision, sees the status.

    While the request is pending the card asks Teams to refresh it for the approvers (Universal Actions),
    so each of them gets the view with buttons from the bot, checked against their own identity."""
    return fit(lambda echo: _approval_card(request, echo, approver_view, refresh_user_ids), kept_with=request.reference)


def _approval_card(request: ApprovalRequest, echo: Echo, approver_view: bool, refresh_user_ids: list[str] | None) -> dict:
    body = [
        heading(f"AI tool request {request.reference}: {echo(request.tool_name)}"),
        _request_facts(request, echo),
        *_consequences(request),
        *_thread(request, echo),
        *_outcome(request, echo),
    ]
    actions = []
    pending = request.status == "pending"
    if pending and approver_view:
        data = {"reference": request.reference, "version": request.version}
        actions = [
            button("Approve", VERB_DECIDE, {**data, "action": "approve"}, style="positive"),
            _decision_form("Approve with conditions", "conditions", "Conditions of approval", "Approve with these conditions",
                           "approve_conditions", data),
            _decision_form("Reject", "reason", "Reason for rejecting", "Reject the request", "reject", data),
            _decision_form("Ask for more information", "question", "Your question for the requester", "Send the question",
                           "ask", data),
        ]
    refresh = None
    if pending:
        refresh = refresh_for(VERB_REFRESH, {"reference": request.reference}, refresh_user_ids)
    return to_dict(card(body, actions, refresh=refresh, fallback_text=f"AI tool request {request.reference}"))


def build_receipt_card(request: ApprovalRequest, *, routes: Sequence[Route], contact: str) -> dict:
    """`routes`: where the approvers' cards went, from the outbox entries created (cards.routing.routes_of)."""
    where, act = routing_text(routes, contact=contact, reference=request.reference)

    def draw(echo: Echo) -> dict:
        body = [
            heading(f"Request received: {request.reference}"),
            para(f"Your request to use **{echo(request.tool_name)}** is saved. {where if not act else ''}".rstrip()),
            *([para(where, color="Attention")] if act else []),
            para("I'll tell you here when it is decided, or if they need more information. Please don't use the tool "
                 "for council work until it is approved. Type **my requests** to see your requests."),
            _request_facts(request, echo),
            *_consequences(request),
        ]
        return to_dict(card(body, fallback_text=f"Request received: {request.reference}"))

    return fit(draw, kept_with=request.reference)


def build_my_requests_card(requests: list[ApprovalRequest]) -> dict:
    if not requests:
        return to_dict(card([heading("Your tool requests"),
                             para("You haven't asked for any AI tools. Type **request tool** to ask for one.")]))

    def draw(echo: Echo) -> dict:
        shown, more = echo.first(requests[:20])
        body = [heading("Your tool requests")]
        for request in shown:
            extra = " · question waiting for your answer" if request.status == "pending" and request.open_question else ""
            note = f" · {echo(request.decision_note, kept_with=request.reference)}" if request.decision_note else ""
            body.append(para(f"**{request.reference}** {echo(request.tool_name, kept_with=request.reference)}: "
                             f"{STATUSES[request.status]}{note}{extra} · asked {card_day(request.requested_at)}"))
        if more:
            body.append(para(f"… and {more} more.", subtle=True))
        return to_dict(card(body, fallback_text="Your tool requests"))

    return fit(draw)


def build_question_card(request: ApprovalRequest, *, typed_answer: str | None = None, error: str | None = None) -> dict:
    question = request.open_question or {}

    def draw(echo: Echo) -> dict:
        body = [
            heading(f"A question about your request {request.reference}"),
            para(f"{echo(question.get('by'))}, one of the approvers, asks about **{echo(request.tool_name)}**:"),
            Container(style="emphasis", items=[para(echo(question.get("text")))]),
            TextInput(id="answer", label="Your answer", is_multiline=True, is_required=True, max_length=LIMITS["answer"],
                      value=echo.value(typed_answer)),
        ]
        if error:
            body.append(para(f"⚠ {echo(error)}", color="Attention", spacing="None"))
        data = {"reference": request.reference, "version": request.version}
        return to_dict(card(body, [button("Send answer", VERB_ANSWER, data, style="positive")],
                            fallback_text=f"A question about your request {request.reference}"))

    return fit(draw, kept_with=request.reference)


def build_answered_card(request: ApprovalRequest) -> dict:
    return fit(lambda echo: to_dict(card(
        [heading(f"Answer sent: {request.reference}"),
         para("Thank you. The approvers can see your answer on the request; I'll tell you when it is decided."),
         *_thread(request, echo)], fallback_text=f"Answer sent: {request.reference}")), kept_with=request.reference)


def build_decision_text(request: ApprovalRequest) -> str:
    who = safe(request.decided_by_name or "the approvers")
    tool = safe(request.tool_name)
    if request.status == "approved":
        return (f"Your request **{request.reference}** to use **{tool}** has been **approved** by {who}. It is now on the "
                "approved tools list. Remember to review what it produces before you rely on it (policy 8.3).")
    if request.status == "approved_with_conditions":
        return (f"Your request **{request.reference}** to use **{tool}** has been **approved with conditions** by {who}. "
                f"Conditions: {safe(request.decision_note)}")
    return (f"Your request **{request.reference}** to use **{tool}** has been **rejected** by {who}. "
            f"Reason: {safe(request.decision_note)}. Please don't use it for council work.")
