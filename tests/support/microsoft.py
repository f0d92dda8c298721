"""The one fake Microsoft, on loopback: what the bot asks of Microsoft besides the Bot Connector.

Over HTTPS, with a certificate from a test CA (trustme) that the bot trusts through CA_BUNDLE:
- Entra ID's token endpoint (client secret, or a certificate's client assertion), for the bot's own
  tokens, Graph's and the database's (DATABASE_AUTH=entra);
- Microsoft Graph: an approver group's members (two pages) and sendMail.
Over plain HTTP, as in Azure:
- App Service's managed identity endpoint (`/msi/token`);
- the Teams channel's OpenID metadata and token-signing keys.

It runs on an event loop of its own, in a thread, so a test can see whether the bot's event loop
keeps running while the bot waits for it (`gate`)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from support.servers import tls_for_loopback

APP_ID = "5d2e1f3a-0000-4000-8000-00000000b07a"
TENANT_ID = "11111111-2222-3333-4444-555555555555"
GROUP = "aaaaaaaa-0000-4000-8000-0000000000ab"
MEMBER, OTHER_MEMBER = "aad-member-1", "aad-member-2"
CLIENT_SECRET = "s3cret-value"
IDENTITY_HEADER = "identity-secret"
ISSUER = "https://api.botframework.com"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk_of(key, kid: str) -> dict:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, use="sig", endorsements=["msteams"])
    return jwk


def token(service_url: str, **changes) -> str:
    """A Teams channel token for our app, signed with KEY (or `key=`); `None` values drop a claim."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": APP_ID, "serviceurl": service_url, "nbf": now - 10, "exp": now + 600, "iat": now}
    key = changes.pop("key", KEY)
    kid = changes.pop("kid", "test-key")
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


class FakeMicrosoft:
    """Records what it was asked; fields a test may set are marked."""

    def __init__(self, ca_bundle: Path) -> None:
        self.url = ""            # https: token endpoint and Graph
        self.plain_url = ""      # http: managed identity, OpenID metadata and keys
        self.metadata_url = ""
        self.token_requests: list[dict] = []
        self.issued: list[str] = []                       # access tokens the token endpoint gave out
        self.identity_requests: list[dict] = []
        self.graph_requests: list[str] = []
        self.mail: list[tuple[str, dict]] = []
        self.fetches = 0                                  # OpenID metadata documents served
        self.asked = threading.Event()                    # the keys were asked for (with a gate set)
        self.gate_was_open: bool | None = None
        # set by tests:
        self.client_public_key = None                     # the app's certificate, for client-assertion sign-in
        self.mail_faults: list[int] = []
        self.graph_roles: list[str] | None = None
        self.keys = [jwk_of(KEY, "test-key")]
        self.failing = False                              # the OpenID endpoints answer 503
        self.gate: threading.Event | None = None          # when set up, /keys waits for it
        self.token_lifetime = 3600                        # seconds each token lasts
        self.new_token_each_time = False                  # each token differs, as Entra ID's do (Graph accepts only the fixed ones)
        self.on_issue = None                              # called (in the fake's thread) with each token before it is given out
        self._tls = tls_for_loopback(ca_bundle)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._runner = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    # ----- Entra ID -----

    def _client_is_genuine(self, form: dict) -> bool:
        if "client_secret" in form:
            return form["client_secret"] == CLIENT_SECRET
        assertion = form.get("client_assertion")
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" or not assertion:
            return False
        try:
            claims = jwt.decode(assertion, self.client_public_key, algorithms=["RS256", "PS256"],
                                audience=f"{self.url}/{TENANT_ID}/oauth2/v2.0/token")
        except jwt.PyJWTError:
            return False
        return claims.get("iss") == APP_ID and claims.get("sub") == APP_ID

    async def token(self, request: web.Request) -> web.Response:
        form = {k: v[0] for k, v in parse_qs(await request.text()).items()}
        self.token_requests.append({"tenant": request.match_info["tenant"], **form})
        if not self._client_is_genuine(form):
            return web.json_response({"error": "invalid_client"}, status=401)
        access = self.access_token(form.get("scope"))
        if self.new_token_each_time:
            access = f"{access}-{len(self.issued) + 1}-{uuid.uuid4().hex[:8]}"
        self.issued.append(access)
        if self.on_issue is not None:
            self.on_issue(access)
        return web.json_response({"access_token": access, "token_type": "Bearer",
                                  "expires_in": self.token_lifetime, "ext_expires_in": self.token_lifetime})

    def access_token(self, scope: str | None) -> str:
        """With graph_roles set, Graph tokens are JWTs carrying those application permissions, as Entra ID's are."""
        if self.graph_roles is not None and scope == f"{self.url}/.default":
            return jwt.encode({"aud": self.url, "roles": self.graph_roles}, "fake-entra-signing-key-of-32-bytes!!", algorithm="HS256")
        return f"token-for-{scope}"

    async def managed_identity(self, request: web.Request) -> web.Response:
        self.identity_requests.append(dict(request.query))
        if request.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER:
            return web.json_response({"error": "forbidden"}, status=403)
        return web.json_response({"access_token": f"token-for-{request.query['resource']}/.default",
                                  "expires_on": str(int(time.time()) + 3600), "resource": request.query["resource"],
                                  "token_type": "Bearer"})

    # ----- Graph -----

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.access_token(self.url + '/.default')}"

    async def send_mail(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        if self.mail_faults:
            return web.json_response({"error": {"code": "ServiceUnavailable"}}, status=self.mail_faults.pop(0))
        self.mail.append((request.match_info["sender"], await request.json()))
        return web.Response(status=202)

    async def members(self, request: web.Request) -> web.Response:
        self.graph_requests.append(str(request.rel_url))
        if not self._authorised(request):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        if request.match_info["group"] != GROUP:
            return web.json_response({"error": {"code": "Request_ResourceNotFound"}}, status=404)
        if request.query.get("page") == "2":
            return web.json_response({"value": [{"@odata.type": "#microsoft.graph.user", "id": OTHER_MEMBER}]})
        return web.json_response({"value": [{"@odata.type": "#microsoft.graph.user", "id": MEMBER}],
                                  "@odata.nextLink": f"{self.url}/v1.0/groups/{GROUP}/transitiveMembers/microsoft.graph.user?page=2"})

    # ----- the channel's signing keys -----

    async def openid_metadata(self, request: web.Request) -> web.Response:
        if self.failing:
            return web.Response(status=503)
        self.fetches += 1
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.plain_url}/keys"})

    async def signing_keys(self, request: web.Request) -> web.Response:
        if self.failing:
            return web.Response(status=503)
        if self.gate is not None:
            self.asked.set()
            self.gate_was_open = await asyncio.to_thread(self.gate.wait, 5)
        return web.json_response({"keys": self.keys})

    # ----- serving -----

    async def _start(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self.token)
        app.router.add_get("/msi/token", self.managed_identity)
        app.router.add_get("/v1.0/groups/{group}/transitiveMembers/microsoft.graph.user", self.members)
        app.router.add_post("/v1.0/users/{sender}/sendMail", self.send_mail)
        app.router.add_get("/.well-known/openid-configuration", self.openid_metadata)
        app.router.add_get("/keys", self.signing_keys)
        runner = web.AppRunner(app)
        await runner.setup()
        secure, plain = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self._tls), web.TCPSite(runner, "127.0.0.1", 0)
        await secure.start()
        await plain.start()
        self.url = f"https://127.0.0.1:{secure._server.sockets[0].getsockname()[1]}"
        self.plain_url = f"http://127.0.0.1:{plain._server.sockets[0].getsockname()[1]}"
        self.metadata_url = f"{self.plain_url}/.well-known/openid-configuration"
        return runner

    def close(self) -> None:
        if self.gate is not None:
            self.gate.set()
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
