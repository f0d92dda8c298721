"""Route guards over HTTP: a refused command is answered in plain words and audited once; an allowed one runs."""

from __future__ import annotations

import json

import pytest

from support.activities import channel_message, message
from support.bots import refusals
from support.connector import posted_to

ADMIN, GOV, STAFF = "aad-admin", "aad-gov", "aad-staff"


@pytest.fixture
def bot_settings():
    return dict(admin_ids=ADMIN, governance_ids=GOV)


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
