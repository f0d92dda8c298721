"""What waits for the approvers (`pending requests`) and the triage teams (`open incidents`), over HTTP as Teams sends
it, on SQLite and PostgreSQL: the right items in the right order and nothing else, the Open button bringing the card
that decides or triages, refusals audited; `policy-bot report requests|incidents`; and the list in `policy-bot chat`."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from domain.incidents import most_urgent_first
from domain.records import Incident
from domain.times import Waited, bank_holidays, waited, working_days
from storage.models import ApprovalRequestRow, IncidentRow
from support.activities import GOOD_REPORT, card_action
from support.bots import make_settings, refusals, running_bot, typed_in_own_chat
from support.connector import posted_to
from support.processes import chat, run_cli_async

APP1, APP2, GOV, SEC, DPO = "aad-app1", "aad-app2", "aad-gov", "aad-sec", "aad-dpo"
STAFF, CAROL, DAVE = "aad-staff", "aad-carol", "aad-dave"
# No bank holidays here, so the working days counted back from today do not depend on the date the suite runs.
ROLES = dict(approver_ids=f"{APP1},{APP2}", governance_ids=GOV, security_ids=SEC, dpo_ids=DPO, outbox_base_delay=0.05,
             connector_timeout=1.0, bank_holidays="none")
REQUEST = {"purpose": "Draft slides for briefings.", "data_classification": "public",
           "data_description": "Published reports.", "expected_output": "Slides.", "output_use": "Internal briefings.",
           "category": "public"}


@pytest.fixture
def bot_settings():
    return ROLES


@pytest.fixture
async def bot_on_both(database_url):
    """The bot on SQLite, and on PostgreSQL when the test server is there."""
    async with running_bot(make_settings(database_url, **ROLES)) as running:
        yield running


async def clicked(bot, connector, verb: str, data: dict, user: str):
    response = await bot.post(card_action(connector, verb, data, user=user, conversation_id=f"a:{user}"))
    assert response.status == 200
    return (await response.json())["value"]


async def request_tool(bot, connector, tool: str, user: str, *, days_ago: int = 0) -> str:
    receipt = await clicked(bot, connector, "approval.submit", {**REQUEST, "tool_name": tool}, user)
    reference = receipt["body"][0]["text"].split(": ")[1]
    if days_ago:  # as if it had been made then
        async with bot.services.db.sessions.begin() as session:
            await session.execute(update(ApprovalRequestRow).where(ApprovalRequestRow.reference == reference)
                                  .values(requested_at=datetime.now(timezone.utc) - timedelta(days=days_ago)))
    return reference


async def report(bot, connector, user: str, *, days_ago: int = 0, **changes) -> str:
    receipt = await clicked(bot, connector, "incident.submit", {**GOOD_REPORT, **changes}, user)
    reference = receipt["body"][0]["text"].split(": ")[1]
    if days_ago:
        async with bot.services.db.sessions.begin() as session:
            await session.execute(update(IncidentRow).where(IncidentRow.reference == reference)
                                  .values(reported_at=datetime.now(timezone.utc) - timedelta(days=days_ago)))
    return reference


def card_of(shown: dict) -> dict:
    return shown["attachments"][0]["content"]


def open_buttons(card: dict) -> list[dict]:
    """The Open buttons, in the list's order."""
    return [action for item in card["body"] if item.get("type") == "Container"
            for element in item["items"] if element["type"] == "ActionSet" for action in element["actions"]]


def listed(card: dict) -> list[str]:
    return [button["data"]["reference"] for button in open_buttons(card)]


async def decide(bot, connector, reference: str, action: str, user: str = APP1, **typed) -> dict:
    data = {"reference": reference, "version": (await bot.services.approvals.get(reference)).version, "action": action}
    return await clicked(bot, connector, "approval.decide", {**data, **typed}, user)


# ---------- pending requests ----------

async def test_pending_requests_lists_the_undecided_oldest_first_and_marks_those_waiting_for_an_answer(bot_on_both, connector):
    bot = bot_on_both
    newer = await request_tool(bot, connector, "Gamma", STAFF, days_ago=1)
    decided = await request_tool(bot, connector, "Delta", CAROL, days_ago=30)
    asked = await request_tool(bot, connector, "Otter.ai", DAVE, days_ago=14)
    await decide(bot, connector, decided, "approve")
    await decide(bot, connector, asked, "ask", question="Which meetings, and who is in them?")
    card = card_of(await typed_in_own_chat(bot, connector, "pending requests", APP2))
    assert listed(card) == [asked, newer]
    text = json.dumps(card, ensure_ascii=False)
    assert "Tool requests waiting: 2" in text and "Delta" not in text
    assert f"**{asked}** · Otter.ai · asked by User {DAVE}" in text
    assert "waiting for the requester's answer to the question of" in text and "waiting for a decision" in text
    assert "(10 working days)" in text  # 14 calendar days
    assert "Past the" not in text  # ten working days is not past the ten-day target


async def test_a_request_past_the_decision_target_is_marked(bot, connector):
    late = await request_tool(bot, connector, "Gamma", STAFF, days_ago=20)  # 14 or 15 working days
    await request_tool(bot, connector, "Delta", CAROL, days_ago=2)
    card = card_of(await typed_in_own_chat(bot, connector, "pending requests", APP1))
    late_item = next(item for item in card["body"] if item.get("type") == "Container" and late in json.dumps(item))
    assert "Past the 10-working-day target for a decision (policy 7.3)." in json.dumps(late_item)
    assert json.dumps(card).count("Past the") == 1


async def test_the_open_button_brings_the_requests_card_below_the_list_and_deciding_there_works(bot, connector):
    reference = await request_tool(bot, connector, "Gamma", STAFF)
    [button] = open_buttons(card_of(await typed_in_own_chat(bot, connector, "waiting requests", APP1)))
    assert button["title"] == f"Open {reference}"
    before = len(posted_to(connector, f"a:{APP1}"))
    said = await clicked(bot, connector, button["verb"], button["data"], APP1)
    assert said == f"The card of {reference} is below."  # the list stays where it is
    await bot.settled()
    [shown] = posted_to(connector, f"a:{APP1}")[before:]
    approve = next(a for a in card_of(shown)["actions"] if a["title"] == "Approve")["data"]
    decided = await clicked(bot, connector, approve["verb"], approve, APP1)
    assert "**Approved** by User aad-app1" in json.dumps(decided)
    assert (await bot.services.approvals.get(reference)).status == "approved"
    empty = json.dumps(await typed_in_own_chat(bot, connector, "pending requests", APP1))
    assert "Nothing is waiting for a decision" in empty


async def test_the_list_shows_twenty_and_names_the_rest_to_open_by_reference(bot, connector):
    references = [await request_tool(bot, connector, f"Tool {n}", STAFF) for n in range(23)]
    card = card_of(await typed_in_own_chat(bot, connector, "pending requests", APP1))
    assert listed(card) == references[:20]
    assert (f"**And 3 more**, in the same order: {', '.join(references[20:])}. To open one, type **open request** and "
            f"its reference.") in json.dumps(card)


async def test_pending_requests_and_their_open_button_are_refused_and_audited_for_anyone_else(bot, connector):
    reference = await request_tool(bot, connector, "Gamma", STAFF)
    for user in (STAFF, GOV):  # the governance team triages incidents, but only approvers decide requests
        said = await typed_in_own_chat(bot, connector, "pending requests", user)
        assert said["text"].startswith("The list of tool requests waiting is for the approvers") and "Gamma" not in json.dumps(said)
    forged = await clicked(bot, connector, "approval.open", {"reference": reference, "action": "open"}, STAFF)
    assert "You can't open tool requests" in json.dumps(forged) and "Gamma" not in json.dumps(forged)
    assert await refusals(bot) == [(STAFF, "report:pending-requests", {}), (GOV, "report:pending-requests", {}),
                                   (STAFF, f"approval:{reference}", {"action": "open"})]


# ---------- open incidents ----------

async def test_open_incidents_are_most_urgent_first_without_the_resolved_and_keep_anonymity(bot_on_both, connector):
    bot = bot_on_both
    low = await report(bot, connector, STAFF, days_ago=20, severity="low", personal_data="no")
    high_new = await report(bot, connector, CAROL, severity="high")
    high_old = await report(bot, connector, DAVE, days_ago=3, severity="high", anonymous="true", personal_data="yes")
    resolved = await report(bot, connector, STAFF, severity="high", tool_name="Resolved-tool")
    await clicked(bot, connector, "incident.triage", {"reference": high_new, "version": 1, "action": "assign"}, SEC)
    await clicked(bot, connector, "incident.triage", {"reference": resolved, "version": 1, "action": "resolve",
                                                      "note": "Withdrawn."}, GOV)
    card = card_of(await typed_in_own_chat(bot, connector, "open incidents", GOV))
    assert listed(card) == [high_old, high_new, low]
    text = json.dumps(card, ensure_ascii=False)
    assert resolved not in text and f"User {DAVE}" not in text
    assert f"**{high_old}** · High · Personal or confidential data exposed" in text
    assert "New, not assigned" in text and f"by Anonymous (identity held by the governance leads)" in text
    assert f"In progress, assigned to User {SEC}" in text and f"by User {CAROL}" in text
    assert text.count("the ICO must be told by") == 2  # "yes" and "unsure"; not the report with no personal data


async def test_the_open_button_brings_the_triage_card_and_triaging_there_tells_the_reporter(bot, connector):
    reference = await report(bot, connector, STAFF)
    [button] = open_buttons(card_of(await typed_in_own_chat(bot, connector, "open incidents", SEC)))
    before = len(posted_to(connector, f"a:{SEC}"))
    assert await clicked(bot, connector, button["verb"], button["data"], SEC) == f"The triage card of {reference} is below."
    await bot.settled()
    [shown] = posted_to(connector, f"a:{SEC}")[before:]
    acknowledge = next(a for a in card_of(shown)["actions"] if a["title"] == "Acknowledge")["data"]
    assert "Acknowledged" in json.dumps(await clicked(bot, connector, acknowledge["verb"], acknowledge, SEC))
    await bot.settled()
    assert "has been acknowledged" in posted_to(connector, f"a:{STAFF}")[-1]["text"]


async def test_open_incidents_are_refused_and_audited_for_anyone_but_the_triage_teams(bot, connector):
    reference = await report(bot, connector, STAFF)
    for user in (STAFF, DPO, APP1):
        said = await typed_in_own_chat(bot, connector, "open incidents", user)
        assert said["text"].startswith("The list of open incidents is for the GenAI governance and IT security teams")
        assert reference not in json.dumps(said)
    forged = await clicked(bot, connector, "incident.open", {"reference": reference, "action": "open"}, DPO)
    assert "can't act on incident reports" in json.dumps(forged) and "Copilot" not in json.dumps(forged)
    assert await refusals(bot) == [*((user, "report:open-incidents", {}) for user in (STAFF, DPO, APP1)),
                                   (DPO, f"incident:{reference}", {"action": "open"})]


async def test_with_nothing_open_the_list_says_so(bot, connector):
    said = json.dumps(await typed_in_own_chat(bot, connector, "open incidents", GOV))
    assert "No incident is open: every report has been resolved." in said


async def test_help_names_each_teams_lists_to_its_members_only(bot, connector):
    def team_lines(user_help: dict) -> str:
        text = json.dumps(user_help, ensure_ascii=False)
        return text.split("For your team")[1] if "For your team" in text else ""

    approver, triage = team_lines(await typed_in_own_chat(bot, connector, "help", APP1)), team_lines(
        await typed_in_own_chat(bot, connector, "help", SEC))
    governance, staff = team_lines(await typed_in_own_chat(bot, connector, "help", GOV)), team_lines(
        await typed_in_own_chat(bot, connector, "help", STAFF))
    assert "**pending requests**" in approver and "open incidents" not in approver
    assert "**open incidents**" in triage and "questions" not in triage and "pending requests" not in triage
    assert "**open incidents**" in governance and "**questions**" in governance and "pending requests" not in governance
    assert staff == ""


# ---------- the CLI ----------

async def test_the_reports_for_it_and_auditors_list_the_same_in_the_same_order(bot, connector, tmp_path):
    older = await request_tool(bot, connector, "Gamma", STAFF, days_ago=2)
    newer = await request_tool(bot, connector, "Delta", STAFF)
    low = await report(bot, connector, STAFF, severity="low", personal_data="no")
    high = await report(bot, connector, CAROL, severity="high", anonymous="true", personal_data="yes")
    env = {"DATABASE_URL": bot.database_url}
    code, out, err = await run_cli_async("report", "requests", env=env)
    assert code == 0, err
    assert out.index(older) < out.index(newer) and "Tool requests waiting: 2 (2 for a decision), oldest first" in out
    code, out, err = await run_cli_async("report", "incidents", "--csv", str(tmp_path / "open.csv"), env=env)
    assert code == 0, err
    assert out.index(high) < out.index(low) and f"User {CAROL}" not in out and "by Anonymous" in out
    assert "possible personal data breach: ICO by" in out
    with (tmp_path / "open.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["reference"], r["reported_by"], bool(r["ico_deadline"])) for r in rows] == [
        (high, "Anonymous", True), (low, f"User {STAFF}", False)]


def test_an_approver_in_the_terminal_chat_lists_opens_and_approves(tmp_path):
    db_url, first = f"sqlite:///{tmp_path}/b.db", f"REQ-{datetime.now(timezone.utc).year}-0001"
    request = ["request tool Gamma", "1", "", "Draft slides for briefings", "public", "Published reports", "Slides",
               "Internal briefings", "public", ""]
    chat(db_url, request, "--as", "carol", "--approver", "alice")
    out = chat(db_url, ["pending requests", "1", "1", "pending requests"], "--as", "alice", "--approver", "alice")
    assert f"{first} · Gamma · asked by carol" in out and f"[1] Open {first}" in out
    assert f"AI tool request {first}: Gamma" in out and "Approved by alice" in out
    assert "Nothing is waiting for a decision" in out.split("Approved by alice")[-1]


# ---------- the rules ----------

def test_bank_holidays_are_not_working_days_where_the_organisation_keeps_them():
    christmas_eve = datetime(2026, 12, 24, 12, 0, tzinfo=timezone.utc)  # a Thursday
    after = christmas_eve + timedelta(days=5)  # Tuesday 29 December
    england = bank_holidays("england-and-wales", 2026, 2026)  # Christmas Day, and Boxing Day's Monday substitute
    assert working_days(christmas_eve, after, timezone.utc) == 3
    assert working_days(christmas_eve, after, timezone.utc, england) == 1
    assert date(2026, 11, 30) in bank_holidays("scotland", 2026, 2026) and date(2026, 11, 30) not in england
    assert bank_holidays("none", 2026, 2026) == frozenset()
    # Tuesday 12 January 2027: 13 weekdays on, less Christmas Day, its substitute and New Year's Day.
    season = bank_holidays("england-and-wales", 2026, 2027)
    twelfth = after + timedelta(days=14)
    assert Waited(twelfth, season).since(christmas_eve) == "10 working days"
    assert not Waited(twelfth, season, target_days=10).past_target(christmas_eve)
    assert Waited(twelfth, season, target_days=9).past_target(christmas_eve)
    assert not Waited(twelfth, season, target_days=0).past_target(christmas_eve)  # no target


def test_working_days_count_monday_to_friday_in_the_organisations_zone():
    friday = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)
    assert working_days(friday, friday + timedelta(days=3), timezone.utc) == 1  # Monday
    assert working_days(friday, friday + timedelta(days=17), timezone.utc) == 11  # two weeks, and the Monday after
    assert working_days(friday, friday - timedelta(days=1), timezone.utc) == 0
    assert waited(friday, friday + timedelta(hours=2)) == "since today"
    assert waited(friday, friday + timedelta(days=1)) == "0 working days"  # Saturday
    assert waited(friday, friday + timedelta(days=4)) == "2 working days"


def test_the_most_urgent_incident_is_the_most_severe_then_the_longest_waiting():
    at = datetime(2026, 11, 2, tzinfo=timezone.utc)

    def incident(reference: str, severity: str, status: str, day: int) -> Incident:
        return Incident("What happened.", "Copilot", at, "no", "other", severity, False, reference, STAFF, None, status,
                        None, None, None, [], 1, at + timedelta(days=day), at + timedelta(days=day))

    made = [incident("a", "low", "new", 0), incident("b", "high", "in_progress", 5), incident("c", "medium", "acknowledged", 1),
            incident("d", "high", "new", 2), incident("e", "high", "resolved", 0)]
    assert [i.reference for i in most_urgent_first(made)] == ["d", "b", "c", "a"]
