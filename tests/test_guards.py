"""Route guards over HTTP: a refused command is answered in plain words and audited once; an allowed one runs."""

from __future__ import annotations

import json

import pytest

from support.activities import channel_message, message
from support.bots import refusals, typed_in_own_chat
from support.connector import posted_to

ADMIN, GOV, STAFF, APPROVER, SECURITY = "aad-admin", "aad-gov", "aad-staff", "aad-approver", "aad-security"


@pytest.fixture
def bot_settings():
    return dict(admin_ids=ADMIN, governance_ids=GOV, approver_ids=APPROVER, security_ids=SECURITY)


async def test_only_admins_register_a_channel(bot, connector):
    await bot.post(channel_message(connector, "register governance", "19:gov@thread.tacv2", user=STAFF))
    await bot.settled()
    told = posted_to(connector, "19:gov@thread.tacv2;messageid=1")
    assert any("Only administrators of this bot can register channels" in (m.get("text") or "") for m in told)
    assert await refusals(bot) == [(STAFF, "channel:governance", {"action": "register"})]


async def test_register_without_a_purpose_asks_what_before_any_refusal(bot, connector):
    await bot.post(channel_message(connector, "register", "19:gov@thread.tacv2", user=STAFF))
    await bot.settled()
    told = posted_to(connector, "19:gov@thread.tacv2;messageid=1")
    assert any("Register what?" in (m.get("text") or "") for m in told)
    assert await refusals(bot) == []


async def test_only_governance_sees_the_acknowledgement_report(bot, connector):
    await bot.post(message(connector, "report", user=STAFF, conversation_id="a:staff"))
    await bot.post(message(connector, "report", user=GOV, conversation_id="a:gov"))
    await bot.settled()
    staff = json.dumps(posted_to(connector, "a:staff"))
    assert "The acknowledgement report is for the GenAI governance team" in staff and "Report an incident" in staff
    assert "The acknowledgement report is for" not in json.dumps(posted_to(connector, "a:gov"))
    assert await refusals(bot) == [(STAFF, "report:acknowledgements", {})]


@pytest.mark.parametrize("typed, user, expected", [
    ("open request", APPROVER, "for example: open request REQ-"),
    ("open request REQ-1999-0042", APPROVER, "No tool request has the reference REQ-1999-0042"),
    ("open incident", SECURITY, "for example: open incident INC-"),
    ("open incident INC-1999-0042", SECURITY, "No incident report has the reference INC-1999-0042"),
])
async def test_opening_a_card_without_a_reference_or_with_an_unknown_one_says_so(bot, connector, typed, user, expected):
    assert expected in json.dumps(await typed_in_own_chat(bot, connector, typed, user))
    assert await refusals(bot) == []
