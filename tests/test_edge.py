"""What /api/messages accepts as a body: JSON only, never from a browser page in local mode."""

from __future__ import annotations

import json

from sqlalchemy import select

from conftest import card_action
from storage.models import IncidentRow

REPORT = {"description": "Copilot summarised a complaint.", "tool_name": "Copilot", "occurred_at": "2026-11-20 09:30",
          "personal_data": "no", "category": "other", "severity": "low", "anonymous": "false"}


async def incidents(bot) -> list:
    async with bot.services.db.sessions() as session:
        return list((await session.execute(select(IncidentRow))).scalars())


async def test_local_mode_takes_only_json_and_no_browser_requests(bot, connector):
    """A web page can POST text/plain to loopback without a CORS preflight; with no token in local mode, that
    page could otherwise report incidents or ask questions as anyone."""
    body = json.dumps(card_action(connector, "incident.submit", REPORT)).encode()
    cross_site = [
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Content-Type": "multipart/form-data; boundary=x"}, 415),
        ({"Content-Type": "application/json", "Origin": "https://evil.example"}, 403),
        ({"Content-Type": "text/plain", "Origin": "null"}, 403),
    ]
    for headers, status in cross_site:
        response = await bot.post(body, headers=headers)
        assert response.status == status, headers
        assert "error" in await response.json()
    assert await incidents(bot) == []
    assert connector.requests == []

    response = await bot.post(body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status == 200 and "Report received" in await response.text()
    assert len(await incidents(bot)) == 1
