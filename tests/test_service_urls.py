"""The bot only ever sends to allowed service URLs (ALLOWED_SERVICE_URLS): whatever an activity names, and
whatever a stored conversation reference says. In local mode the default is loopback only."""

from __future__ import annotations

import asyncio

import pytest

from support.activities import card_action, message
from support.bots import make_settings, running_bot
from domain.records import ConversationRef

GOV, STAFF = "aad-gov", "aad-staff"
REPORT = {"description": "A chatbot answered with another resident's case notes.", "tool_name": "Copilot",
          "occurred_at": "2026-11-20 09:30", "personal_data": "no", "category": "data_exposed", "severity": "high",
          "anonymous": "false"}


@pytest.fixture
async def local_bot(tmp_path):
    async with running_bot(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", governance_ids=GOV,
                                                    outbox_base_delay=0.05)) as running:
        yield running


async def test_local_mode_answers_only_loopback_service_urls(local_bot, connector):
    """Local mode has no authentication, so any page or process could name any serviceUrl: it used to reply
    there, retrying 13 times. Now the activity is refused and nothing is sent or queued."""
    for elsewhere in ("https://smba.trafficmanager.net/uk/", "http://203.0.113.9/", "https://smba.invalid/"):
        body = message(connector, "help", serviceUrl=elsewhere)
        response = await local_bot.post(body)
        assert response.status == 403, elsewhere
        assert "service URL" in (await response.json())["error"]
        assert await local_bot.services.conversations.get(body["conversation"]["id"]) is None
    assert await local_bot.services.outbox.counts() == {}
    # Loopback itself still works.
    assert (await local_bot.post(message(connector, "help"))).status == 200
    await connector.wait_for(3)


async def test_a_stored_reference_to_another_host_is_never_used(tmp_path, connector):
    """A conversation reference stored before the allow-list existed (or by a bug) names another host. A proactive
    card for that person fails at once with the reason recorded, and never reaches that host."""
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", governance_ids=GOV, outbox_base_delay=0.05,
                             allowed_service_urls="127.0.0.1")
    async with running_bot(settings) as running:
        forged = connector.url.replace("127.0.0.1", "localhost")  # the same fake connector, by a name not allowed
        await running.services.conversations.save(ConversationRef(
            id="a:gov", kind="personal", service_url=forged, channel_id="msteams", bot_id="28:bot", user_id=GOV,
            user_teams_id=f"29:{GOV}"))
        response = await running.post(card_action(connector, "incident.submit", REPORT, user=STAFF,
                                                   conversation_id="a:staff"))
        assert response.status == 200
        assert "Report received" in await response.text()
        for _ in range(100):  # (the security team has no route at all: that entry fails for its own reason)
            failed = [e for e in await running.services.outbox.entries("failed") if e.key.endswith(f":governance:{GOV}")]
            if failed:
                break
            await asyncio.sleep(0.05)
        [entry] = failed
        assert entry.attempts == 1
        assert "not an allowed service URL" in entry.last_error
        await running.settled()
        assert not [r for r in connector.requests if r.headers.get("Host", "").startswith("localhost")]


def test_the_default_allow_list_is_teams_hosts_with_credentials_and_loopback_without(tmp_path):
    from bot.service_urls import ServiceUrls

    teams = ServiceUrls.for_settings(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}", app_id="a", app_password="p",
                                                   app_type="MultiTenant"))
    for allowed in ("https://smba.trafficmanager.net/uk/", "https://smba.trafficmanager.net/amer/",
                    "https://smba.trafficmanager.net/teams/", "https://smba.infra.gcc.teams.microsoft.com/teams"):
        assert teams.problem(allowed) is None, allowed
    for refused in ("http://smba.trafficmanager.net/uk/", "https://smba.trafficmanager.net.evil.example/",
                    "https://evil.example/smba.trafficmanager.net/", "https://user@evil.example/", "http://127.0.0.1:3978/",
                    "ftp://smba.trafficmanager.net/", "https://smba.trafficmanager.net@evil.example/", "", "not a url"):
        assert teams.problem(refused), refused

    local = ServiceUrls.for_settings(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"))
    for allowed in ("http://127.0.0.1:56150/_connector", "http://localhost:3979/", "http://[::1]:8080/"):
        assert local.problem(allowed) is None, allowed
    for refused in ("https://smba.trafficmanager.net/uk/", "http://10.0.0.5/", "local://chat"):
        assert local.problem(refused), refused

    chosen = ServiceUrls(["*.example.org", "connector.test"])
    assert chosen.problem("https://a.b.example.org/x") is None and chosen.problem("https://connector.test/") is None
    assert chosen.problem("https://example.org/") and chosen.problem("https://connector.test.evil/")
