"""A Universal Actions refresh shows a record only to those entitled to it. Anyone can send an `incident.refresh`
or `approval.refresh` invoke naming any reference (they are sequential), from any chat."""

from __future__ import annotations

import json

import pytest

from support.activities import card_action
from support.bots import refusals

GOV, SEC, APPROVER, STAFF, NOSY = "aad-gov", "aad-sec", "aad-approver", "aad-staff", "aad-nosy"
DESCRIPTION = "Copilot put Mrs Example's safeguarding notes into a shared summary."
REPORT = {"description": DESCRIPTION, "tool_name": "Copilot", "occurred_at": "2026-11-20 09:30", "personal_data": "yes",
          "category": "data_exposed", "severity": "high", "anonymous": "true"}
PURPOSE = "Transcribe disciplinary hearings for HR."
REQUEST = {"tool_name": "Otter.ai", "purpose": PURPOSE, "data_classification": "special_category",
           "data_description": "Health details discussed in hearings.", "expected_output": "Transcripts.",
           "output_use": "Kept on the HR case file.", "category": "public", "vendor_url": "https://otter.ai"}


@pytest.fixture
def bot_settings():
    return dict(governance_ids=GOV, security_ids=SEC, approver_ids=APPROVER, outbox_base_delay=0.05)


async def refresh(bot, connector, verb: str, reference: str, user: str) -> str:
    """The card a refresh returns, as text; sent from the user's own 1:1 chat."""
    response = await bot.post(card_action(connector, verb, {"reference": reference}, user=user, conversation_id=f"a:{user}"))
    assert response.status == 200
    body = await response.json()
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    return json.dumps(body["value"])


async def test_an_incident_is_shown_only_to_triage_members_and_its_reporter(bot, connector):
    response = await bot.post(card_action(connector, "incident.submit", REPORT, user=STAFF, conversation_id=f"a:{STAFF}"))
    reference = (await response.json())["value"]["body"][0]["text"].split(": ")[1]

    nosy = await refresh(bot, connector, "incident.refresh", reference, NOSY)
    assert "can't see this incident report" in nosy
    for private in (DESCRIPTION, "Mrs Example", STAFF, "Copilot", "High"):
        assert private not in nosy, private
    # A reference that does not exist gets the same answer: references can't be probed.
    assert await refresh(bot, connector, "incident.refresh", "INC-2026-9999", NOSY) == nosy
    assert await refusals(bot) == [(NOSY, f"incident:{reference}", {"action": "refresh"}),
                                   (NOSY, "incident:INC-2026-9999", {"action": "refresh"})]

    for member in (GOV, SEC):
        view = await refresh(bot, connector, "incident.refresh", reference, member)
        assert DESCRIPTION in view and "Acknowledge" in view
        assert "Anonymous" in view and STAFF not in view  # not even to the triage team

    reporter = await refresh(bot, connector, "incident.refresh", reference, STAFF)
    assert DESCRIPTION in reporter and reference in reporter
    assert "Acknowledge" not in reporter and "User aad-staff" not in reporter
    assert len(await refusals(bot)) == 2


async def test_a_tool_request_is_shown_only_to_approvers_and_its_requester(bot, connector):
    response = await bot.post(card_action(connector, "approval.submit", REQUEST, user=STAFF, conversation_id=f"a:{STAFF}"))
    reference = (await response.json())["value"]["body"][0]["text"].split(": ")[1]

    nosy = await refresh(bot, connector, "approval.refresh", reference, NOSY)
    assert "can't see this tool request" in nosy
    for private in (PURPOSE, "Health details", STAFF, "Otter"):
        assert private not in nosy, private
    assert await refresh(bot, connector, "approval.refresh", "REQ-2026-9999", NOSY) == nosy
    assert await refusals(bot) == [(NOSY, f"approval:{reference}", {"action": "refresh"}),
                                   (NOSY, "approval:REQ-2026-9999", {"action": "refresh"})]

    approver = await refresh(bot, connector, "approval.refresh", reference, APPROVER)
    assert PURPOSE in approver and "Approve with conditions" in approver

    requester = await refresh(bot, connector, "approval.refresh", reference, STAFF)
    assert PURPOSE in requester and "Approve" not in requester.replace("Approved", "")
    # Triage members are not approvers: a request is not theirs to see.
    assert "can't see this tool request" in await refresh(bot, connector, "approval.refresh", reference, GOV)
