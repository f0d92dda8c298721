"""What waits for the approvers (`pending requests`) and the triage teams (`open incidents`): one line or two per
item, in the order domain/ decides, each with a button that opens its card as `open request REF` or
`open incident REF` does."""

from __future__ import annotations

from typing import Sequence

from microsoft_teams.cards import ActionSet, Container, TextBlock

from cards.approval import entry_time
from cards.common import button, card, heading, notice_card, para, to_dict
from cards.fit import Echo, fit
from cards.incident import reporter_shown
from cards.verbs import VERB_OPEN_INCIDENT, VERB_OPEN_REQUEST
from domain.approvals import DATA_CLASSIFICATIONS
from domain.incidents import CATEGORIES, SEVERITIES, STATUSES, notification_deadline, possible_breach, time_left
from domain.records import ApprovalRequest, Incident
from domain.times import Waited, card_day, card_when

LISTED = 20  # items shown in full, each with its button
NAMED = 100  # of the rest, how many references are listed, to type after "open request" / "open incident"


def build_pending_requests_card(*, requests: Sequence[ApprovalRequest], as_of: Waited) -> dict:
    """`requests`: those not decided yet, oldest first (domain.approvals.waiting_oldest_first); `as_of`: now, in the
    organisation's zone, its bank holidays and the decision target (policy 7.3) past which a request is marked."""
    if not requests:
        return notice_card("Tool requests waiting", "Nothing is waiting for a decision: every tool request has been decided.")
    return fit(lambda echo: _requests_card(requests, as_of, echo))


def _requests_card(requests: Sequence[ApprovalRequest], as_of: Waited, echo: Echo) -> dict:
    now = as_of.now
    answers = sum(r.open_question is not None for r in requests)
    shown, _ = echo.first(requests[:LISTED])
    body = [
        heading(f"Tool requests waiting: {len(requests)}"),
        para(f"{len(requests) - answers} for a decision" + (f", {answers} for the requester's answer to a question" if answers
             else "") + f". Oldest first, as of {card_when(now)}.", subtle=True),
        *(_request_item(request, as_of, echo) for request in shown),
        *_the_rest([r.reference for r in requests[len(shown):]], "open request"),
        _footer("policy-bot report requests"),
    ]
    return to_dict(card(body, fallback_text=f"Tool requests waiting: {len(requests)}"))


def _request_item(request: ApprovalRequest, as_of: Waited, echo: Echo) -> Container:
    ref = request.reference
    question = request.open_question
    status = (f"waiting for the requester's answer to the question of {entry_time(question)}" if question
              else "waiting for a decision")
    lines = [
        para(f"**{ref}** · {echo(request.tool_name, kept_with=ref)} · asked by "
             f"{echo(request.requester_name or request.requester_id, kept_with=ref)}"),
        para(f"Asked {card_day(request.requested_at)} ({as_of.since(request.requested_at)}) · "
             f"{DATA_CLASSIFICATIONS[request.data_classification]} · {status}", subtle=True, spacing="None"),
    ]
    if as_of.past_target(request.requested_at):
        lines.append(para(f"Past the {as_of.target_days}-working-day target for a decision (policy 7.3).",
                          color="Attention", spacing="None"))
    return _item(lines, button(f"Open {ref}", VERB_OPEN_REQUEST, {"reference": ref, "action": "open"}))


def build_open_incidents_card(*, incidents: Sequence[Incident], as_of: Waited) -> dict:
    """`incidents`: those not resolved, most urgent first (domain.incidents.most_urgent_first); `as_of`: now, in the
    organisation's zone, and its bank holidays."""
    if not incidents:
        return notice_card("Open incidents", "No incident is open: every report has been resolved.")
    return fit(lambda echo: _incidents_card(incidents, as_of, echo))


def _incidents_card(incidents: Sequence[Incident], as_of: Waited, echo: Echo) -> dict:
    now = as_of.now
    shown, _ = echo.first(incidents[:LISTED])
    body = [
        heading(f"Open incidents: {len(incidents)}"),
        para(f"Most urgent first: by severity, then the longest waiting. As of {card_when(now)}.", subtle=True),
        *(_incident_item(incident, as_of, echo) for incident in shown),
        *_the_rest([i.reference for i in incidents[len(shown):]], "open incident"),
        _footer("policy-bot report incidents"),
    ]
    return to_dict(card(body, fallback_text=f"Open incidents: {len(incidents)}"))


def _incident_item(incident: Incident, as_of: Waited, echo: Echo) -> Container:
    now = as_of.now
    ref = incident.reference
    assignee = incident.assignee_name or incident.assignee_id
    handled = f"assigned to {echo(assignee, kept_with=ref)}" if assignee else "not assigned"
    lines = [
        para(f"**{ref}** · {SEVERITIES[incident.severity]} · {CATEGORIES[incident.category]}"),
        para(f"{STATUSES[incident.status]}, {handled} · reported {card_day(incident.reported_at)} "
             f"({as_of.since(incident.reported_at)}) by {reporter_shown(incident, echo)}", subtle=True, spacing="None"),
    ]
    if possible_breach(incident.personal_data):
        deadline = notification_deadline(incident.reported_at)
        lines.append(para(f"Possible personal data breach: if notifiable, the ICO must be told by "
                          f"**{card_when(deadline)}** ({time_left(deadline, now)}).", color="Attention", spacing="None"))
    return _item(lines, button(f"Open {ref}", VERB_OPEN_INCIDENT, {"reference": ref, "action": "open"}))


def _item(lines: list, open_button) -> Container:
    return Container(separator=True, items=[*lines, ActionSet(actions=[open_button])])


def _the_rest(references: list[str], command: str) -> list:
    """The items past those shown: their references, to open one by typing it."""
    if not references:
        return []
    named = ", ".join(references[:NAMED]) + (f" and {len(references) - NAMED} more" if len(references) > NAMED else "")
    return [para(f"**And {len(references)} more**, in the same order: {named}. To open one, type **{command}** and its "
                 f"reference.", spacing="Medium")]


def _footer(command: str) -> TextBlock:
    return TextBlock(text=f"Everything waiting, for IT and auditors: {command}", wrap=True, is_subtle=True, size="Small")
