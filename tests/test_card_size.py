"""Every card the bot builds fits in a Teams message, even when what people typed is as long as it may be and
full of emoji and markdown; and a message Teams still refuses for good is not a silent failure.

Teams counts a message in UTF-16 and refuses one over about 100 KB (413 MessageSizeTooBig); Microsoft advises
staying under 80 KB. The fake connector here refuses anything over 80 KB, measured that way."""

from __future__ import annotations

import inspect
import json
from datetime import datetime, timedelta, timezone

import pytest

import cards.acknowledge
import cards.answer
import cards.approval
import cards.escalation
import cards.help
import cards.incident
import cards.questions
import cards.tools
import cards.waiting
from cards.routing import Route
import cards.welcome
from support.activities import card_action, channel_message, message
from support.connector import posted_to, updated_in
from domain.acknowledgements import SectionChange
from domain.approvals import LIMITS as REQUEST_LIMITS
from domain.incidents import LIMITS as INCIDENT_LIMITS
from domain.policy_parse import Block, Section
from domain.records import ApprovalRequest, Incident, QuestionGroup, QuestionRecord, QuestionsReport, Tool, WaitingEscalation
from domain.times import Waited

BUDGET = 28_000  # bytes of card JSON, UTF-8: cards.fit.CARD_BUDGET_BYTES explains the number
TEAMS_LIMIT = 80 * 1024  # the whole activity in UTF-16, as Microsoft advises
ADMIN, APP1, APP2, GOV, SEC, STAFF = "aad-admin", "aad-app1", "aad-app2", "aad-gov", "aad-sec", "aad-staff"
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)


def worst(length: int, seed: str = "") -> str:
    """`length` characters that cost the most once escaped and serialised: 4-byte emoji, markdown characters
    (escaped, so doubled), backslashes (escaped twice), '<' (a 3-byte lookalike) and control characters
    (six bytes each in JSON)."""
    return (seed + "😀*\\<_\x01🙈[" * length)[:length]


def card_size(card: dict) -> int:
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def teams_size(activity: dict) -> int:
    return len(json.dumps(activity, ensure_ascii=False).encode("utf-16-le", "surrogatepass"))


# ---------- over HTTP: the approvers' and triage cards as Teams receives them ----------

@pytest.fixture
def bot_settings():
    return dict(admin_ids=ADMIN, approver_ids=f"{APP1},{APP2}", governance_ids=GOV, security_ids=SEC,
                outbox_base_delay=0.05, connector_timeout=1.0)


@pytest.fixture
async def registered(bot, connector):
    """The bot, with both teams' channels registered and everyone's 1:1 chat open; a connector with Teams' size limit."""
    running = bot
    connector.max_message_bytes = TEAMS_LIMIT
    connector.members = [{"id": f"29:{user}", "aadObjectId": user} for user in (APP1, APP2, GOV, SEC)]
    await running.post(channel_message(connector, "register governance", "19:gov@thread.tacv2", user=ADMIN))
    await running.post(channel_message(connector, "register security", "19:sec@thread.tacv2", user=ADMIN))
    for user in (STAFF, APP1, APP2, GOV, SEC):  # each has a 1:1 chat; the bot knows everyone's Teams id
        await running.post(message(connector, "help", user=user, conversation_id=f"a:{user}"))
    await running.settled()
    connector.requests.clear()
    return running


async def click(bot, connector, verb: str, data: dict, user: str, **where) -> dict:
    response = await bot.post(card_action(connector, verb, data, user=user, **where))
    assert response.status == 200
    card = (await response.json())["value"]
    assert card_size(card) <= BUDGET  # the card Teams shows in place of the one clicked fits too
    return card


def assert_fits(activities: list[dict]) -> None:
    assert activities
    for activity in activities:
        assert teams_size(activity) <= TEAMS_LIMIT
        for attachment in activity.get("attachments", []):
            assert card_size(attachment["content"]) <= BUDGET


async def test_the_longest_tool_request_reaches_the_approvers_shortened_with_a_note(registered, connector):
    request = {"tool_name": worst(200, "Tool"), "data_classification": "special_category", "category": "procured",
               "vendor_url": "https://example.org/" + "a" * 450,
               **{name: worst(REQUEST_LIMITS[name], name) for name in
                  ("purpose", "data_description", "expected_output", "output_use")}}
    receipt = await click(registered, connector, "approval.submit", request, STAFF, conversation_id=f"a:{STAFF}")
    reference = receipt["body"][0]["text"].split(": ")[1]
    await registered.settled()
    [posted] = posted_to(connector, "19:gov@thread.tacv2")
    assert_fits([posted])
    assert f"(shortened; full text kept with {reference})" in json.dumps(posted, ensure_ascii=False)

    # The card grows with the approvers' questions and the answers, and still fits at every step.
    version = 1
    for round_ in range(3):
        await click(registered, connector, "approval.decide", {"reference": reference, "version": version, "action": "ask",
                                                        "question": worst(REQUEST_LIMITS["note"], f"Q{round_}")},
                    APP1, channel=True)
        await click(registered, connector, "approval.answer", {"reference": reference, "version": version + 1,
                                                        "answer": worst(REQUEST_LIMITS["answer"], f"A{round_}")},
                    STAFF, conversation_id=f"a:{STAFF}")
        version += 2
    await click(registered, connector, "approval.decide", {"reference": reference, "version": version,
                                                    "action": "approve_conditions",
                                                    "conditions": worst(REQUEST_LIMITS["note"], "C")}, APP1, channel=True)
    await registered.settled()
    updates = updated_in(connector, "19:gov@thread.tacv2")
    assert len(updates) == 7 and "Approved with conditions" in json.dumps(updates[-1])
    assert_fits(updates + posted_to(connector, f"a:{STAFF}"))
    assert await registered.services.outbox.entries("failed") == []


async def test_the_longest_incident_reaches_both_teams_with_every_note(registered, connector):
    report = {"description": worst(INCIDENT_LIMITS["description"], "D"), "tool_name": worst(200, "T"),
              "occurred_at": "2026-11-20 09:30", "personal_data": "yes", "category": "data_exposed", "severity": "high",
              "anonymous": "false"}
    receipt = await click(registered, connector, "incident.submit", report, STAFF, conversation_id=f"a:{STAFF}")
    reference = receipt["body"][0]["text"].split(": ")[1]
    for version in range(1, 7):
        await click(registered, connector, "incident.triage", {"reference": reference, "version": version, "action": "note",
                                                        "note": worst(INCIDENT_LIMITS["note"], f"N{version}")},
                    GOV, channel=True)
    await click(registered, connector, "incident.triage", {"reference": reference, "version": 7, "action": "resolve",
                                                    "note": worst(INCIDENT_LIMITS["outcome"], "O")}, SEC, channel=True)
    await registered.settled()
    for channel in ("19:gov@thread.tacv2", "19:sec@thread.tacv2"):
        sent = posted_to(connector, channel) + updated_in(connector, channel)
        assert len(sent) == 8
        assert_fits(sent)
        assert f"(shortened; full text kept with {reference})" in json.dumps(sent[-1], ensure_ascii=False)
    assert_fits(posted_to(connector, f"a:{STAFF}"))
    assert await registered.services.outbox.entries("failed") == []


# ---------- a delivery that fails for good: whoever was told it was sent is told it wasn't ----------

async def test_when_the_approvers_card_is_refused_for_good_the_requester_is_told(registered, connector):
    connector.faults = [(413, {})]  # Teams: MessageSizeTooBig, whatever the reason
    request = {"tool_name": "Gamma", "purpose": "Slides.", "data_classification": "public", "data_description": "None.",
               "expected_output": "Slides.", "output_use": "Briefings.", "category": "public"}
    receipt = await click(registered, connector, "approval.submit", request, STAFF, conversation_id=f"a:{STAFF}")
    reference = receipt["body"][0]["text"].split(": ")[1]
    assert "sent it to the approvers at the AI Board" in json.dumps(receipt)
    await registered.settled()
    [told] = posted_to(connector, f"a:{STAFF}")
    assert f"couldn't deliver your request **{reference}** to the approvers" in told["text"]
    assert "ai-board@testshire.gov.uk" in told["text"] and "nothing you sent was lost" in told["text"]
    [failed] = await registered.services.outbox.entries("failed")
    assert failed.key.startswith(f"approval:{reference}:card:") and "413" in failed.last_error


async def test_when_a_triage_card_is_refused_for_good_the_reporter_is_told(registered, connector):
    connector.faults = [(413, {})]
    report = {"description": "A summary went to the wrong team.", "tool_name": "Copilot", "occurred_at": "2026-11-20 09:30",
              "personal_data": "no", "category": "data_exposed", "severity": "low", "anonymous": "true"}
    receipt = await click(registered, connector, "incident.submit", report, STAFF, conversation_id=f"a:{STAFF}")
    reference = receipt["body"][0]["text"].split(": ")[1]
    await registered.settled()
    [told] = posted_to(connector, f"a:{STAFF}")
    assert f"couldn't deliver your report **{reference}**" in told["text"] and "ai-board@testshire.gov.uk" in told["text"]
    # The other team's card went; only one card failed, and the reporter is told once.
    assert len(posted_to(connector, "19:gov@thread.tacv2") + posted_to(connector, "19:sec@thread.tacv2")) == 1


# ---------- every builder, at its worst ----------

def request_at_worst(status: str = "pending") -> ApprovalRequest:
    thread = [{"kind": kind, "by": worst(200, "by"), "by_id": "aad-x", "at": NOW.isoformat(), "text": worst(2000, kind)}
              for _ in range(5) for kind in ("question", "answer")]
    if status == "pending":
        thread.append({"kind": "question", "by": worst(200), "by_id": "aad-x", "at": NOW.isoformat(), "text": worst(2000)})
    return ApprovalRequest(
        reference="REQ-2026-9999", requester_id="aad-staff", requester_name=worst(200, "R"), tool_name=worst(200, "T"),
        purpose=worst(2000, "P"), data_classification="special_category", data_description=worst(2000, "D"),
        expected_output=worst(2000, "E"), output_use=worst(2000, "U"), category="procured",
        vendor_url="https://example.org/" + worst(480), status=status, decided_by_id=None if status == "pending" else "aad-a",
        decided_by_name=None if status == "pending" else worst(200, "A"), decided_at=None if status == "pending" else NOW,
        decision_note=None if status == "pending" else worst(2000, "N"), thread=thread, version=99, requested_at=NOW,
        updated_at=NOW)


def incident_at_worst(status: str = "in_progress", anonymous: bool = False) -> Incident:
    notes = [{"by": worst(200, "by"), "at": NOW.isoformat(), "text": worst(2000, f"n{n}")} for n in range(12)]
    return Incident(
        reference="INC-2026-9999", reporter_id="aad-staff", reporter_name=worst(200, "R"), anonymous=anonymous,
        description=worst(4000, "D"), tool_name=worst(200, "T"), occurred_at=NOW, personal_data="yes",
        category="data_exposed", severity="high", status=status, assignee_id="aad-gov", assignee_name=worst(200, "A"),
        outcome=worst(2000, "O") if status == "resolved" else None, notes=notes, version=99, reported_at=NOW,
        updated_at=NOW)


def question_at_worst(status: str = "waiting", anonymous: bool = False) -> QuestionRecord:
    passages = [{"section": "9.9.9", "title": worst(300, f"t{n}"), "score": 1.0, "text": worst(500, f"p{n}")} for n in range(3)]
    response = {"section": "9.9.9", "title": worst(300), "text": worst(2000, "r")}
    return QuestionRecord(
        id=1, user_id="aad-staff", asked_at=NOW, text=worst(2000, "Q"), redacted=True, answered=True, passages=passages,
        feedback="not_helpful", escalated_at=NOW, reference="Q-2026-9999", asker_name=worst(200, "A"), anonymous=anonymous,
        escalation_reason="not_helpful", escalation_comment=worst(1000, "C"), escalation_status=status,
        response=None if status == "waiting" else response, responder_name=worst(200, "R"),
        responded_at=None if status == "waiting" else NOW, version=99)


LONG_IDS = [f"29:1{'x' * 80}{n}" for n in range(100)]
REQUEST_FORM = {name: worst(limit * 3, name) for name, limit in REQUEST_LIMITS.items()}
INCIDENT_FORM = {name: worst(limit * 3, name) for name, limit in INCIDENT_LIMITS.items()}
SECTION = Section("9.9.9", worst(300, "S"), 3, blocks=[Block("para", worst(3000, f"p{n}")) for n in range(30)])
TOOLS = [Tool(worst(200, f"t{n}"), "public tool", "approved with conditions", (worst(100),), worst(2000, "c"),
              worst(200, "by"), NOW.date(), NOW.date() + timedelta(days=365)) for n in range(300)]
MIXED_TOOLS = [Tool(worst(200, f"m{n}"), "public tool", status, (worst(100),), worst(2000, "c"), worst(200, "by"),
                    NOW.date(), NOW.date() + timedelta(days=365))
               for n in range(100) for status in ("approved", "approved with conditions", "not approved")]
SETTING = worst(500, "setting")
ROUTES = [Route("the GenAI governance authority", people=3, missed=2), Route("the IT security team")]

WORST_CASES = {
    cards.acknowledge.build_acknowledge_card: [dict(version_id=1, version_label=worst(100), last_label=worst(100),
                                                    changes=[SectionChange("changed", "9.9", worst(300))] * 200)],
    cards.acknowledge.build_policy_page_card: [dict(section=SECTION, position=5, total=9, version_id=1,
                                                    version_label=worst(100))],
    cards.acknowledge.build_acknowledged_card: [dict(version_label=worst(100), at=NOW, first=True)],
    cards.acknowledge.build_status_card: [dict(current_label=worst(100), acknowledged=(worst(100), NOW), current_done=False,
                                               open_reports=[f"INC-2026-{n:04}" for n in range(3000)],
                                               open_requests=[f"REQ-2026-{n:04}" for n in range(3000)])],
    cards.acknowledge.build_ack_report_card: [dict(current_label=worst(100), done=5, total=9,
                                                   previous=(worst(100), 4, 9))],
    cards.acknowledge.build_reminder_text: [dict(version_label=worst(100))],
    cards.answer.build_answer_actions_card: [dict(question_id=1, sections=[("9.9.9", worst(300))] * 3, version_id=1,
                                                  feedback="helpful", escalated="Q-2026-9999",
                                                  unregistered_tools=(worst(200),) * 5),
                                             dict(question_id=1, sections=[("9.9.9", worst(300))] * 3, version_id=1,
                                                  unregistered_tools=(worst(200),) * 5, tells_of_incident=True)],
    cards.answer.build_not_covered_card: [dict(question_id=1, authority_name=SETTING, authority_contact=SETTING)],
    cards.answer.build_incident_prompt_card: [dict(question_id=1, authority_name=SETTING)],
    cards.answer.build_section_card: [dict(number="9.9.9", title=worst(300), text=SECTION.full_text(),
                                           version_label=worst(100))],
    cards.answer.build_personal_data_warning_card: [dict(kinds=("email address", "phone number", "NI number",
                                                                "NHS number", "date of birth", "postcode"))],
    cards.approval.build_request_form_card: [dict(values=REQUEST_FORM, errors={k: worst(300) for k in REQUEST_FORM},
                                                  authority_name=SETTING)],
    cards.approval.build_approval_card: [dict(request=request_at_worst(), approver_view=True, refresh_user_ids=LONG_IDS),
                                         dict(request=request_at_worst(), approver_view=False, refresh_user_ids=LONG_IDS),
                                         dict(request=request_at_worst("approved_with_conditions"), approver_view=True)],
    cards.approval.build_receipt_card: [dict(request=request_at_worst(), routes=ROUTES, contact=SETTING)],
    cards.approval.build_my_requests_card: [dict(requests=[request_at_worst("rejected")] * 100)],
    cards.approval.build_question_card: [dict(request=request_at_worst(), typed_answer=worst(6000), error=worst(300))],
    cards.approval.build_answered_card: [dict(request=request_at_worst())],
    cards.approval.build_decision_text: [dict(request=request_at_worst(status)) for status in ("approved_with_conditions",
                                                                                               "rejected")],
    cards.escalation.build_escalation_card: [dict(question=question_at_worst(), member_view=view, refresh_user_ids=LONG_IDS)
                                             for view in (True, False)]
                                            + [dict(question=question_at_worst(status)) for status in
                                               ("passage", "answer", "not_covered", "not_policy")],
    cards.escalation.build_escalation_receipt_card: [dict(question=question_at_worst(), routes=ROUTES[:1], contact=SETTING,
                                                          authority_name=SETTING)],
    cards.escalation.build_already_passed_on_card: [dict(question=question_at_worst("answer"))],
    cards.escalation.build_response_text: [dict(question=question_at_worst(status), authority_name=SETTING)
                                           for status in ("passage", "answer", "not_covered", "not_policy")],
    cards.help.build_help_card: [dict(available=None, teams=("approver", "triage", "governance"))],
    cards.help.build_did_you_mean_card: [dict(command=worst(100))],
    cards.incident.build_incident_form_card: [dict(values=INCIDENT_FORM, errors={k: worst(300) for k in INCIDENT_FORM},
                                                   authority_name=SETTING,
                                                   now=NOW)],
    cards.incident.build_receipt_card: [dict(incident=incident_at_worst("resolved"), now=NOW, dpo_told=False, routes=ROUTES,
                                             contact=SETTING)],
    cards.incident.build_triage_card: [dict(incident=incident_at_worst(), now=NOW, dpo_told=True, member_view=view,
                                            refresh_user_ids=LONG_IDS) for view in (True, False)]
                                      + [dict(incident=incident_at_worst("resolved", True), now=NOW, dpo_told=False)],
    cards.incident.build_status_update_text: [dict(incident=incident_at_worst("resolved"), action=action)
                                              for action in ("assign", "resolve")],
    cards.incident.build_reporter_view: [dict(incident=incident_at_worst(anonymous=True))],
    cards.incident.build_my_reports_card: [dict(incidents=[incident_at_worst()] * 200)],
    cards.questions.build_questions_report_card: [dict(report=QuestionsReport(
        since=NOW, until=NOW, total=10**9, weekly=[(NOW.date(), 10**6)] * 60,
        sections=[(worst(20), worst(300), 10**6)] * 50,
        unanswered=[QuestionGroup(worst(2000), 10**6, NOW)] * 5000, not_helpful=[QuestionGroup(worst(2000), 10**6, NOW)] * 5000,
        waiting=[WaitingEscalation(10**9, worst(2000), NOW, 10**4)] * 5000, answered_without_person=10**8,
        unsure=[QuestionGroup(worst(2000), 10**6, NOW)] * 5000))],
    cards.tools.build_tools_card: [dict(tools=TOOLS), dict(tools=MIXED_TOOLS)],
    cards.waiting.build_pending_requests_card: [dict(requests=[request_at_worst()] * 300, as_of=Waited(NOW + timedelta(days=30), target_days=1)),  # each past its target
                                                dict(requests=[], as_of=Waited(NOW))],
    cards.waiting.build_open_incidents_card: [dict(incidents=[incident_at_worst(anonymous=n % 2 == 0) for n in range(300)],
                                                   as_of=Waited(NOW)),
                                              dict(incidents=[], as_of=Waited(NOW))],
    cards.welcome.build_welcome_card: [dict(org_name=SETTING, authority_name=SETTING, authority_contact=SETTING,
                                            commands={"help", "tools", "request tool", "my requests", "report incident",
                                                      "my reports", "acknowledge", "my status", "policy"})],
    cards.welcome.build_team_welcome_text: [dict(org_name=SETTING, bot_name=SETTING, authority_name=SETTING,
                                                 authority_contact=SETTING)],
}
# Email goes through Microsoft Graph, not the Bot Connector, and has no such limit.
NOT_FOR_TEAMS = {cards.incident.build_breach_email}


def test_every_builder_has_a_worst_case_here():
    builders = {function for module in (cards.acknowledge, cards.answer, cards.approval, cards.escalation, cards.help,
                                        cards.incident, cards.questions, cards.tools, cards.waiting, cards.welcome)
                for name, function in inspect.getmembers(module, inspect.isfunction)
                if name.startswith("build_") and function.__module__ == module.__name__}
    assert builders == set(WORST_CASES) | NOT_FOR_TEAMS


@pytest.mark.parametrize("builder, arguments", [(b, a) for b, cases in WORST_CASES.items() for a in cases],
                         ids=lambda value: getattr(value, "__name__", ""))
def test_the_worst_case_of_every_builder_fits(builder, arguments):
    built = builder(**arguments)
    size = card_size(built) if isinstance(built, dict) else len(built.encode("utf-8", "surrogatepass"))
    assert size <= BUDGET
    if isinstance(built, dict):
        json.dumps(built)  # plain JSON, nothing a serialiser could choke on
