"""Microsoft Graph with the bot's own credentials: approvers from an Entra ID group, and breach emails by sendMail.

azure-identity's real client-credentials flow (secret and certificate) and our Graph calls run over HTTPS.

A local token endpoint and a local Microsoft Graph run on loopback with a certificate from a test CA
(trustme); the bot trusts that CA through CA_BUNDLE, as a council behind a TLS-inspecting proxy would."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from urllib.parse import parse_qs

import jwt
import pytest
import trustme
from cryptography import x509
from aiohttp import web

from conftest import card_action, free_port, make_settings, message, start_bot
from test_auth import APP_ID, keys, token  # noqa: F401  (keys is a fixture)

TENANT_ID = "11111111-2222-3333-4444-555555555555"
GROUP = "aaaaaaaa-0000-4000-8000-0000000000ab"
MEMBER, OTHER_MEMBER, STAFF, OUTSIDER = "aad-member-1", "aad-member-2", "aad-staff", "aad-outsider"
REQUEST = {
    "tool_name": "Gamma", "purpose": "Draft slide decks for internal briefings.", "data_classification": "public",
    "data_description": "Published council reports.", "expected_output": "Slides.", "output_use": "Internal briefings.",
    "category": "public",
}


class FakeMicrosoft:
    """The Entra ID token endpoint and the Graph group-members API, recording what they were asked."""

    def __init__(self) -> None:
        self.token_requests: list[dict] = []
        self.graph_requests: list[str] = []
        self.url = ""
        self.client_public_key = None  # the app's certificate, for client-assertion sign-in
        self.mail: list[tuple[str, dict]] = []
        self.mail_faults: list[int] = []
        self.graph_roles: list[str] | None = None

    def _client_is_genuine(self, form: dict) -> bool:
        if "client_secret" in form:
            return form["client_secret"] == "s3cret-value"
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
        return web.json_response({"access_token": self.access_token(form.get("scope")), "token_type": "Bearer",
                                  "expires_in": 3600, "ext_expires_in": 3600})

    def access_token(self, scope: str | None) -> str:
        """With graph_roles set, Graph tokens are JWTs carrying those application permissions, as Entra ID's are."""
        if self.graph_roles is not None and scope == f"{self.url}/.default":
            return jwt.encode({"aud": self.url, "roles": self.graph_roles}, "fake-entra-signing-key-of-32-bytes!!", algorithm="HS256")
        return f"token-for-{scope}"

    async def send_mail(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.access_token(self.url + '/.default')}":
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        if self.mail_faults:
            return web.json_response({"error": {"code": "ServiceUnavailable"}}, status=self.mail_faults.pop(0))
        self.mail.append((request.match_info["sender"], await request.json()))
        return web.Response(status=202)

    async def members(self, request: web.Request) -> web.Response:
        self.graph_requests.append(str(request.rel_url))
        if request.headers.get("Authorization") != f"Bearer {self.access_token(self.url + '/.default')}":
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        if request.match_info["group"] != GROUP:
            return web.json_response({"error": {"code": "Request_ResourceNotFound"}}, status=404)
        if request.query.get("page") == "2":
            return web.json_response({"value": [{"@odata.type": "#microsoft.graph.user", "id": OTHER_MEMBER}]})
        return web.json_response({"value": [{"@odata.type": "#microsoft.graph.user", "id": MEMBER}],
                                  "@odata.nextLink": f"{self.url}/v1.0/groups/{GROUP}/transitiveMembers/microsoft.graph.user?page=2"})


@pytest.fixture
async def microsoft(tmp_path):
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_ssl)
    fake = FakeMicrosoft()
    app = web.Application()
    app.router.add_post("/{tenant}/oauth2/v2.0/token", fake.token)
    app.router.add_get("/v1.0/groups/{group}/transitiveMembers/microsoft.graph.user", fake.members)
    app.router.add_post("/v1.0/users/{sender}/sendMail", fake.send_mail)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl)
    await site.start()
    fake.url = f"https://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    yield fake
    await runner.cleanup()


def secured_settings(tmp_path, keys, microsoft_url: str, **overrides):  # noqa: F811
    values = dict(
        app_id=APP_ID, app_password="s3cret-value", app_type="SingleTenant", app_tenant_id=TENANT_ID,
        openid_metadata_url=keys.metadata_url, approver_group_id=GROUP, allowed_service_urls="127.0.0.1",
        authority_host=microsoft_url, graph_url=microsoft_url, ca_bundle=tmp_path / "ca.pem", outbox_base_delay=0.05,
    )
    values.update(overrides)
    return make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", **values)


async def post(bot, connector, body: dict) -> dict | None:
    response = await bot.post(body, headers={"Authorization": f"Bearer {token(connector.url)}"})
    assert response.status == 200, await response.text()
    return await response.json() if response.content_type == "application/json" else None


@pytest.fixture
async def managed_identity(monkeypatch):
    """App Service's managed identity endpoint (plain HTTP on the host, as in Azure), for azure-identity to find."""
    asked: list[dict] = []

    async def token(request: web.Request) -> web.Response:
        asked.append(dict(request.query))
        if request.headers.get("X-IDENTITY-HEADER") != "identity-secret":
            return web.json_response({"error": "forbidden"}, status=403)
        return web.json_response({"access_token": f"token-for-{request.query['resource']}/.default",
                                  "expires_on": str(int(time.time()) + 3600), "resource": request.query["resource"],
                                  "token_type": "Bearer"})

    app = web.Application()
    app.router.add_get("/msi/token", token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "identity-secret")
    yield asked
    await runner.cleanup()


async def approve_as_group_member(bot, connector, microsoft) -> None:
    """A staff request reaches a group member 1:1; an outsider is refused; the member approves it."""
    await post(bot, connector, message(connector, "hello", user=OTHER_MEMBER, conversation_id="a:member2"))
    receipt = await post(bot, connector, card_action(connector, "approval.submit", REQUEST, user=STAFF))
    assert "Request received" in json.dumps(receipt)
    # The member (on the second page of the group) gets the card 1:1.
    card = (await connector.wait_for_text("AI tool request", conversation="a:member2"))["attachments"][0]["content"]
    approve = next(a for a in card["actions"] if a["title"] == "Approve")
    # Outbound calls to the connector carried a Bot Framework token from the same (fake) identity platform.
    assert {r.headers.get("Authorization") for r in connector.requests} == {
        "Bearer token-for-https://api.botframework.com/.default"}

    refused = await post(bot, connector, card_action(connector, "approval.decide", approve["data"], user=OUTSIDER))
    assert "You are not an approver for AI tool requests" in json.dumps(refused)
    decided = await post(bot, connector, card_action(connector, "approval.decide", approve["data"], user=MEMBER))
    assert "Approved" in json.dumps(decided) and "not an approver" not in json.dumps(decided)
    assert len(microsoft.graph_requests) == 2  # two pages, read once and then served from the cache
    assert "$select=id" in microsoft.graph_requests[0] and "page=2" in microsoft.graph_requests[1]


@pytest.mark.parametrize("sign_in", ["secret", "certificate"])
async def test_members_of_the_approver_group_may_decide(sign_in, tmp_path, keys, microsoft, connector):  # noqa: F811
    extra = {}
    if sign_in == "certificate":
        app_certificate = trustme.CA().issue_cert("policy-bot.example", key_type=trustme.KeyType.RSA)
        pem = tmp_path / "app.pem"
        pem.write_bytes(app_certificate.private_key_pem.bytes() + app_certificate.cert_chain_pems[0].bytes())
        microsoft.client_public_key = x509.load_pem_x509_certificate(app_certificate.cert_chain_pems[0].bytes()).public_key()
        extra = {"app_password": "", "app_certificate_path": pem}
    bot, runner = await start_bot(secured_settings(tmp_path, keys, microsoft.url, **extra))
    try:
        await approve_as_group_member(bot, connector, microsoft)
        graph_scope = [r for r in microsoft.token_requests if r["scope"] == f"{microsoft.url}/.default"]
        assert len(graph_scope) == 1 and graph_scope[0]["tenant"] == TENANT_ID
        assert graph_scope[0]["grant_type"] == "client_credentials" and graph_scope[0]["client_id"] == APP_ID
        assert ("client_assertion" in graph_scope[0]) == (sign_in == "certificate")
    finally:
        await bot.session.close()
        await runner.cleanup()


async def test_a_managed_identity_bot_reads_the_group_too(tmp_path, keys, microsoft, managed_identity, connector):  # noqa: F811
    settings = secured_settings(tmp_path, keys, microsoft.url, app_type="UserAssignedMSI", app_password="")
    bot, runner = await start_bot(settings)
    try:
        await approve_as_group_member(bot, connector, microsoft)
        assert microsoft.token_requests == []  # no client secret or certificate anywhere
        resources = {asked["resource"] for asked in managed_identity}
        assert resources == {"https://api.botframework.com", microsoft.url}
        assert {asked.get("client_id") for asked in managed_identity} == {APP_ID}
    finally:
        await bot.session.close()
        await runner.cleanup()


async def test_when_graph_cannot_be_reached_nothing_changes_and_the_approver_is_told(tmp_path, keys, microsoft, connector):  # noqa: F811
    nobody = f"https://127.0.0.1:{free_port()}"
    bot, runner = await start_bot(secured_settings(tmp_path, keys, microsoft.url, graph_url=nobody))
    try:
        await post(bot, connector, card_action(connector, "approval.submit", REQUEST, user=STAFF))
        [row] = await bot.services.approvals.for_requester(STAFF)
        data = {"verb": "approval.decide", "reference": row.reference, "version": row.version, "action": "approve"}
        answer = await post(bot, connector, card_action(connector, "approval.decide", data, user=MEMBER))
        assert "couldn't check the approvers group just now" in json.dumps(answer)
        assert (await bot.services.approvals.get(row.reference)).status == "pending"
        failed = await bot.services.outbox.entries("failed")
        assert [e.last_error for e in failed] == [
            "no governance channel is registered and no APPROVER_IDS (nor an APPROVER_GROUP_ID with members) are configured"]
    finally:
        await bot.session.close()
        await runner.cleanup()


async def test_a_possible_breach_is_emailed_to_the_governance_mailbox_once(tmp_path, keys, microsoft, connector):  # noqa: F811
    settings = secured_settings(tmp_path, keys, microsoft.url, governance_mailbox="ai-governance@testshire.gov.uk",
                                mail_sender="genai-bot@testshire.gov.uk", governance_ids="aad-gov")
    microsoft.mail_faults = [503]
    bot, runner = await start_bot(settings)
    report = {"description": "Copilot summarised Mrs Example's case notes into a shared file.", "tool_name": "Copilot",
              "occurred_at": "2026-11-20 09:30", "personal_data": "yes", "category": "data_exposed", "severity": "high",
              "anonymous": "false"}
    try:
        receipt = await post(bot, connector, card_action(connector, "incident.submit", report, user=STAFF))
        reference = receipt["value"]["body"][0]["text"].split(": ")[1]
        for _ in range(100):
            if microsoft.mail:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        [(sender, sent)] = microsoft.mail  # once, after the 503
        assert sender == "genai-bot@testshire.gov.uk"
        message = sent["message"]
        assert message["toRecipients"] == [{"emailAddress": {"address": "ai-governance@testshire.gov.uk"}}]
        assert reference in message["subject"] and "Possible personal data breach" in message["subject"]
        body = message["body"]["content"]
        assert "the ICO must be told by" in body and "Copilot" in body
        assert "Mrs Example" not in body and STAFF not in body  # the description and reporter stay in Teams
        [entry] = [e for e in await bot.services.outbox.entries() if e.key.endswith(":email")]
        assert entry.status == "sent" and entry.attempts == 2

        no_breach = await post(bot, connector, card_action(connector, "incident.submit", {**report, "personal_data": "no"},
                                                            user=STAFF))
        assert "Report received" in json.dumps(no_breach)
        await asyncio.sleep(0.5)
        assert len(microsoft.mail) == 1
    finally:
        await bot.session.close()
        await runner.cleanup()
