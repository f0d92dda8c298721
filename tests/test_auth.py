"""Outside local mode every request needs a valid token from the Teams channel, checked as the SDK's channel
path checks it; tokens for the SDK's other (emulator) path are refused.

The channel's OpenID metadata points at a loopback server that publishes our test key."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import time
import uuid
from datetime import datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from botframework.connector.auth import AuthenticationConstants
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

from cli.wiring import create_app
from bot.signing_keys import OpenIdKeys
from support.activities import activity
from support.bots import make_settings, running_bot
from support.microsoft import APP_ID, FakeMicrosoft, jwk_of, token
from storage.conversations import ConversationRepository

OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def secured_bot(tmp_path, keys):
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", app_id=APP_ID, app_password="never-logged-secret",
        app_type="MultiTenant", openid_metadata_url=keys.metadata_url, allowed_service_urls="127.0.0.1",
    )
    async with running_bot(settings) as running:
        yield running


async def test_only_a_valid_channel_token_gets_in(secured_bot, connector):
    def unmentioned_channel_message() -> dict:
        # In a channel without a mention the bot records the conversation but sends nothing,
        # so this test needs no outbound token.
        return activity("message-channel", connector, text="hello", entities=[],
                        conversation_id=f"19:{uuid.uuid4().hex}@thread.tacv2;messageid=1")

    now = int(time.time())
    refused = {
        "missing": None,
        "expired": token(connector.url, exp=now - 3600, nbf=now - 7200, iat=now - 7200),
        "not yet valid": token(connector.url, nbf=now + 3600),
        "another app's audience": token(connector.url, aud="11111111-2222-3333-4444-555555555555"),
        "wrong issuer": token(connector.url, iss="https://evil.example.com"),
        "bad signature": token(connector.url, key=OTHER_KEY),
        "unknown key id": token(connector.url, kid="nobody-knows-me"),
        "wrong service URL": token("https://smba.evil.example.com/", ),
        "not a bearer token": "Basic dXNlcjpwYXNz",
    }
    repository = ConversationRepository(secured_bot.services.db)
    for reason, bearer in refused.items():
        body = unmentioned_channel_message()
        headers = {"Authorization": bearer if bearer and bearer.startswith("Basic") else f"Bearer {bearer}"} if bearer else {}
        response = await secured_bot.post(body, headers=headers)
        assert response.status == 401, reason
        text = await response.text()
        assert "never-logged-secret" not in text and "Traceback" not in text
        assert await repository.get(body["conversation"]["id"]) is None, f"bot logic ran for {reason}"

    body = unmentioned_channel_message()
    response = await secured_bot.post(body, headers={"Authorization": f"Bearer {token(connector.url)}"})
    assert response.status == 200
    assert await repository.get(body["conversation"]["id"]) is not None
    assert connector.requests == []


# Entra ID's Bot Framework tenant: the issuer of botbuilder's "emulator" tokens, and of the bot's own outbound token.
BOT_FRAMEWORK_TENANT_V1 = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"
BOT_FRAMEWORK_TENANT_V2 = "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0"
ENTRA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def entra_keys(monkeypatch):
    """Entra ID's signing keys, as botbuilder's emulator path looks them up, holding a test key: so these tests can
    sign what Entra ID would sign for anyone who asks, such as the bot's own outbound token."""
    url = AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
    cached = OpenIdKeys(url, ssl.create_default_context())
    entra_jwk = json.loads(RSAAlgorithm.to_jwk(ENTRA_KEY.public_key()))
    entra_jwk.update(kid="entra-key", use="sig")
    cached.keys, cached.last_updated = [entra_jwk], datetime.now()
    monkeypatch.setitem(JwtTokenExtractor.metadataCache, url, cached)


def entra_token(**claims) -> str:
    now = int(time.time())
    return jwt.encode({"nbf": now - 10, "exp": now + 600, "iat": now, **claims}, ENTRA_KEY, algorithm="RS256",
                      headers={"kid": "entra-key"})


async def test_tokens_from_botbuilders_emulator_path_are_refused(entra_keys, secured_bot, connector):
    """botbuilder accepts these on its emulator branch without checking audience or service URL: the holder
    could then name any sender and any serviceUrl, and the bot would POST its own bearer token there."""
    forged = {
        "the bot's own outbound token": entra_token(iss=BOT_FRAMEWORK_TENANT_V1, aud="https://api.botframework.com",
                                                    appid=APP_ID, ver="1.0"),
        "a v2 token for the bot": entra_token(iss=BOT_FRAMEWORK_TENANT_V2, aud=APP_ID, azp=APP_ID, ver="2.0"),
        "a v1 token with a service URL claim": entra_token(iss=BOT_FRAMEWORK_TENANT_V1, aud=APP_ID, appid=APP_ID, ver="1.0",
                                                           serviceurl=connector.url),
    }
    repository = ConversationRepository(secured_bot.services.db)
    for reason, bearer_token in forged.items():
        body = channel_message(connector)
        response = await secured_bot.post(body, headers={"Authorization": f"Bearer {bearer_token}"})
        assert response.status == 401, reason
        assert await repository.get(body["conversation"]["id"]) is None, f"bot logic ran for {reason}"
    assert connector.requests == []


async def test_a_channel_token_for_a_service_url_outside_the_allowed_hosts_is_refused(secured_bot, connector):
    """A correctly signed channel token whose serviceurl matches, but names a host that is not Teams' (here
    `localhost` rather than the allowed 127.0.0.1): refused, and nothing is ever sent there."""
    elsewhere = connector.url.replace("127.0.0.1", "localhost")
    body = activity("message-personal", connector, text="help", serviceUrl=elsewhere)
    response = await secured_bot.post(body, headers={"Authorization": f"Bearer {token(elsewhere)}"})
    assert response.status == 403
    assert "service URL" in (await response.json())["error"]
    assert await ConversationRepository(secured_bot.services.db).get(body["conversation"]["id"]) is None
    await asyncio.sleep(0.3)
    assert connector.requests == []


def channel_message(connector) -> dict:
    # In a channel without a mention the bot records the conversation but sends nothing,
    # so these tests need no outbound token.
    return activity("message-channel", connector, text="hello", entities=[],
                    conversation_id=f"19:{uuid.uuid4().hex}@thread.tacv2;messageid=1")


def bearer(connector, **changes) -> dict:
    return {"Authorization": f"Bearer {token(connector.url, **changes)}"}


async def test_fetching_the_signing_keys_does_not_hold_up_other_requests(secured_bot, keys, connector):
    keys.gate = threading.Event()
    first = asyncio.create_task(secured_bot.post(channel_message(connector), headers=bearer(connector)))
    assert await asyncio.to_thread(keys.asked.wait, 5), "the bot never asked for the keys"
    # The key endpoint is still answering; the bot must go on serving meanwhile.
    async with secured_bot.session.get(f"{secured_bot.url}/healthz") as health:
        assert health.status == 200
    keys.gate.set()
    assert (await first).status == 200
    assert keys.gate_was_open, "the health check waited for the key fetch: the event loop was blocked"


async def test_turns_that_find_the_keys_stale_share_one_fetch(secured_bot, keys, connector):
    responses = await asyncio.gather(*[
        secured_bot.post(channel_message(connector), headers=bearer(connector)) for _ in range(12)
    ])
    assert [r.status for r in responses] == [200] * 12
    assert keys.fetches == 1


def age_keys(keys: FakeMicrosoft, by: timedelta) -> None:
    """Let time pass for the bot's cached keys (the SDK keeps one cache per metadata URL, process-wide)."""
    JwtTokenExtractor.metadataCache[keys.metadata_url].last_updated -= by


async def test_yesterdays_keys_are_kept_when_the_daily_refresh_fails(secured_bot, keys, connector):
    assert (await secured_bot.post(channel_message(connector), headers=bearer(connector))).status == 200
    keys.failing = True
    age_keys(keys, timedelta(days=2))
    assert (await secured_bot.post(channel_message(connector), headers=bearer(connector))).status == 200
    # Tokens signed with another key are still refused while the endpoint is down.
    assert (await secured_bot.post(channel_message(connector), headers=bearer(connector, key=OTHER_KEY))).status == 401
    keys.failing = False
    fetches = keys.fetches
    assert (await secured_bot.post(channel_message(connector), headers=bearer(connector))).status == 200
    assert keys.fetches == fetches, "retried at once instead of after a pause"


async def test_with_no_keys_at_all_requests_are_refused_until_the_endpoint_answers(secured_bot, keys, connector):
    keys.failing = True
    response = await secured_bot.post(channel_message(connector), headers=bearer(connector))
    assert response.status == 401 and "Traceback" not in await response.text()
    keys.failing = False
    assert (await secured_bot.post(channel_message(connector), headers=bearer(connector))).status == 200


async def test_a_newly_rotated_key_is_looked_up_and_accepted(secured_bot, keys, connector):
    assert (await secured_bot.post(channel_message(connector), headers=bearer(connector))).status == 200
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys.keys = keys.keys + [jwk_of(new_key, "rotated-in")]
    age_keys(keys, timedelta(hours=2))  # an unknown key is looked up at most hourly
    signed_with_new = bearer(connector, key=new_key, kid="rotated-in")
    assert (await secured_bot.post(channel_message(connector), headers=signed_with_new)).status == 200
    # A made-up key id right after does not make the bot fetch again.
    fetches = keys.fetches
    assert (await secured_bot.post(channel_message(connector), headers=bearer(connector, kid="made-up"))).status == 401
    assert keys.fetches == fetches


def test_in_production_tokens_are_validated_with_our_key_cache(tmp_path):
    """Without a test override, Teams' tokens are checked against Microsoft's public metadata: through our cache."""
    create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", app_id=APP_ID, app_password="x", app_type="MultiTenant"))
    url = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    assert isinstance(JwtTokenExtractor.get_open_id_metadata(url), OpenIdKeys)
