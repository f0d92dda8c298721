"""Outside local mode every request needs a valid Bot Framework token, checked by the SDK's validator.

The validator's OpenID metadata points at a loopback server that publishes our test key."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from conftest import activity, make_settings, send_json, start_bot
from storage.conversations import ConversationRepository

APP_ID = "5d2e1f3a-0000-4000-8000-00000000b07a"
ISSUER = "https://api.botframework.com"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def openid():
    """Served from a thread: the SDK fetches keys with blocking `requests`, which would deadlock our event loop."""
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    jwk.update(kid="test-key", use="sig", endorsements=["msteams"])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                body = {"issuer": ISSUER, "jwks_uri": f"{url}/keys"}
            elif self.path == "/keys":
                body = {"keys": [jwk]}
            else:
                self.send_error(404)
                return
            send_json(self, body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield url
    server.shutdown()


@pytest.fixture
async def secured_bot(tmp_path, openid):
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", app_id=APP_ID, app_password="never-logged-secret",
        app_type="MultiTenant", openid_metadata_url=f"{openid}/.well-known/openid-configuration",
    )
    running, runner = await start_bot(settings)
    yield running
    await running.session.close()
    await runner.cleanup()


def token(service_url: str, **changes) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": APP_ID, "serviceurl": service_url, "nbf": now - 10, "exp": now + 600, "iat": now}
    key = changes.pop("key", KEY)
    kid = changes.pop("kid", "test-key")
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


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
