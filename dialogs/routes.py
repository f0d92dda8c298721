"""THE route table: every command, card button and the fallback, one route a line, in match order.

The first route that matches handles the turn; `bot.router.Router` refuses a phrase or verb that
an earlier route already owns, so no route here is shadowed. Each route names its handler in
one of the dialog modules beside this one, and its guard (dialogs/guards.py), if only some people may use it. `welcome.first_contact` runs before routing on every
turn, and SCHEDULE lists what runs on a timer.
"""

from __future__ import annotations

from bot.router import Route, Router
from cards import verbs as v
from dialogs import (
    acknowledge, admin, approvals, escalations, incidents, qa, questions_report, reminders, sections, tools, waiting, welcome,
)
from dialogs.guards import (
    ADMINS_ONLY, APPROVERS_ONLY, GOVERNANCE_ANSWERERS_ONLY, GOVERNANCE_ONLY, OPEN_INCIDENTS_TRIAGE_ONLY,
    PENDING_REQUESTS_APPROVERS_ONLY, QUESTIONS_REPORT_GOVERNANCE_ONLY, TRIAGE_MEMBERS_ONLY,
)
from dialogs import help as help_dialog

# fmt: off
ROUTES = (
    Route("help",             help_dialog.show_help,         commands=("help", "hi", "hello", "menu", "start", "commands", "?")),
    Route("admin.register",   admin.register_channel,        commands=("register",), guard=ADMINS_ONLY),
    Route("tools",            tools.list_tools,              commands=("tools", "approved tools", "tool list", "list tools")),
    Route("approval.form",    approvals.show_form,           commands=approvals.REQUEST_COMMANDS, verbs=(v.VERB_REQUEST_TOOL,)),
    Route("approval.submit",  approvals.submit_request,      verbs=(v.VERB_REQUEST_SUBMIT,)),
    Route("approval.mine",    approvals.my_requests,         commands=("my requests", "my tool requests", "my request")),
    Route("approval.refresh", approvals.refresh,             verbs=(v.VERB_REFRESH,)),
    Route("approval.decide",  approvals.decide_request,      verbs=(v.VERB_DECIDE,)),
    Route("approval.open",    approvals.open_card,           commands=("open request", "open tool request"), verbs=(v.VERB_OPEN_REQUEST,), guard=APPROVERS_ONLY),
    Route("approval.waiting", waiting.pending_requests,      exact=("pending requests", "waiting requests", "requests waiting", "open requests"), guard=PENDING_REQUESTS_APPROVERS_ONLY),
    Route("approval.answer",  approvals.answer_question,     verbs=(v.VERB_ANSWER,)),
    Route("incident.form",    incidents.show_form,           commands=("report incident", "report an incident", "report a concern", "report a breach"), verbs=(v.VERB_REPORT_START,)),
    Route("incident.submit",  incidents.submit_report,       verbs=(v.VERB_REPORT_SUBMIT,)),
    Route("incident.mine",    incidents.my_reports,          commands=("my reports", "my incidents", "my report")),
    Route("incident.triage",  incidents.triage,              verbs=(v.VERB_TRIAGE,), guard=TRIAGE_MEMBERS_ONLY),
    Route("incident.refresh", incidents.refresh_triage,      verbs=(v.VERB_TRIAGE_REFRESH,)),
    Route("incident.open",    incidents.open_card,           commands=("open incident",), verbs=(v.VERB_OPEN_INCIDENT,), guard=TRIAGE_MEMBERS_ONLY),
    Route("incident.waiting", waiting.open_incidents,        exact=("open incidents", "pending incidents", "incidents waiting", "incident list"), guard=OPEN_INCIDENTS_TRIAGE_ONLY),
    Route("ack.show",         acknowledge.show_acknowledge,  commands=("acknowledge", "acknowledge policy", "acknowledge the policy")),
    Route("ack.record",       acknowledge.acknowledge,       verbs=(v.VERB_ACKNOWLEDGE,)),
    Route("ack.read",         acknowledge.read_policy,       exact=("policy", "read policy", "read the policy", "show policy"), verbs=(v.VERB_READ,)),
    Route("ack.status",       acknowledge.my_status,         commands=("my status",), exact=("status",)),
    Route("ack.report",       acknowledge.governance_report, exact=("report", "report acknowledgements", "acknowledgement report"), guard=GOVERNANCE_ONLY),
    Route("qa.report",        questions_report.show_questions_report, exact=("questions", "questions report", "report questions"), guard=QUESTIONS_REPORT_GOVERNANCE_ONLY),
    Route("qa.section",       qa.show_section,               verbs=(v.VERB_SHOW_SECTION,)),
    Route("qa.feedback",      qa.record_feedback,            verbs=(v.VERB_FEEDBACK,)),
    Route("qa.feedback_loop", qa.teams_feedback,             invokes=("message/submitAction",)),
    Route("qa.escalate",      escalations.pass_on,           verbs=(v.VERB_ASK_GOVERNANCE,)),
    Route("qa.ask_person",    qa.ask_a_person,               commands=("ask a person", "ask a human", "ask the governance team")),
    Route("qa.respond",       escalations.respond,           verbs=(v.VERB_RESPOND,), guard=GOVERNANCE_ANSWERERS_ONLY),
    Route("qa.esc_refresh",   escalations.refresh,           verbs=(v.VERB_ESCALATION_REFRESH,)),
    Route("qa.esc_open",      escalations.open_card,         commands=("open question",), guard=GOVERNANCE_ANSWERERS_ONLY),
    Route("qa.open_section",  sections.open_section,         commands=sections.COMMANDS),
    Route("qa.question",      qa.answer_question,            any_message=True),
)
# fmt: on


# Jobs the service runs hourly when REMINDERS_WEEKLY is set; outbox keys make repeats harmless.
SCHEDULE = (reminders.this_weeks_round,)


def build_router() -> Router:
    return Router(ROUTES, first_contact=welcome.first_contact)
