"""Microsoft Graph with the bot's own credentials: approvers from an Entra ID group, and breach emails by sendMail.

azure-identity's real client-credentials flow (secret and certificate) and our Graph calls run over HTTPS.

A local token endpoint and a local Microsoft Graph run on loopback with a certificate from a test CA
(trustme); the bot trusts that CA through CA_BUNDLE, as a council behind a TLS-inspecting proxy would."""

from __future__ import annotations

import asyncio
import json

import pytest
import trustme
from cryptography import x509

from support.activities import card_action, message
from support.bots import make_settings, refusals, running_bot
from support.processes import free_port
from support.microsoft import APP_ID, GROUP, MEMBER, OTHER_MEMBER, TENANT_ID, token

STAFF, OUTSIDER = "aad-staff", "aad-outsider"
REQUEST = {
    "tool_name": "Gamma", "purpose": "Draft slide decks for internal briefings.", "data_classification": "public",
    "data_description": "Published council reports.", "expected_output": "Slides.", "output_use": "Internal briefings.",
    "category": "public",
}


def secured_settings(tmp_path, keys, microsoft_url: str, **overrides):
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
async def test_members_of_the_approver_group_may_decide(sign_in, tmp_path, keys, microsoft, connector):
    extra = {}
    if sign_in == "certificate":
        app_certificate = trustme.CA().issue_cert("policy-bot.example", key_type=trustme.KeyType.RSA)
        pem = tmp_path / "app.pem"
        pem.write_bytes(app_certificate.private_key_pem.bytes() + app_certificate.cert_chain_pems[0].bytes())
        microsoft.client_public_key = x509.load_pem_x509_certificate(app_certificate.cert_chain_pems[0].bytes()).public_key()
        extra = {"app_password": "", "app_certificate_path": pem}
    async with running_bot(secured_settings(tmp_path, keys, microsoft.url, **extra)) as bot:
        await approve_as_group_member(bot, connector, microsoft)
        graph_scope = [r for r in microsoft.token_requests if r["scope"] == f"{microsoft.url}/.default"]
        assert len(graph_scope) == 1 and graph_scope[0]["tenant"] == TENANT_ID
        assert graph_scope[0]["grant_type"] == "client_credentials" and graph_scope[0]["client_id"] == APP_ID
        assert ("client_assertion" in graph_scope[0]) == (sign_in == "certificate")


async def test_a_managed_identity_bot_reads_the_group_too(tmp_path, keys, microsoft, managed_identity, connector):
    settings = secured_settings(tmp_path, keys, microsoft.url, app_type="UserAssignedMSI", app_password="")
    async with running_bot(settings) as bot:
        await approve_as_group_member(bot, connector, microsoft)
        assert microsoft.token_requests == []  # no client secret or certificate anywhere
        resources = {asked["resource"] for asked in managed_identity}
        assert resources == {"https://api.botframework.com", microsoft.url}
        assert {asked.get("client_id") for asked in managed_identity} == {APP_ID}


async def test_when_graph_cannot_be_reached_nothing_changes_and_the_approver_is_told(tmp_path, keys, microsoft, connector):
    nobody = f"https://127.0.0.1:{free_port()}"
    async with running_bot(secured_settings(tmp_path, keys, microsoft.url, graph_url=nobody)) as bot:
        await post(bot, connector, card_action(connector, "approval.submit", REQUEST, user=STAFF))
        [row] = await bot.services.approvals.for_requester(STAFF)
        data = {"verb": "approval.decide", "reference": row.reference, "version": row.version, "action": "approve"}
        answer = await post(bot, connector, card_action(connector, "approval.decide", data, user=MEMBER))
        assert "couldn't check the approvers group just now" in json.dumps(answer)
        assert (await bot.services.approvals.get(row.reference)).status == "pending"
        failed = await bot.services.outbox.entries("failed")
        assert [e.last_error for e in failed] == [
            "no governance channel is registered and no APPROVER_IDS (nor an APPROVER_GROUP_ID with members) are configured"]


async def test_when_graph_cannot_be_reached_opening_a_request_asks_to_try_again_and_refuses_nobody(tmp_path, keys, microsoft,
                                                                                                    connector):
    nobody = f"https://127.0.0.1:{free_port()}"
    async with running_bot(secured_settings(tmp_path, keys, microsoft.url, graph_url=nobody)) as bot:
        await post(bot, connector, card_action(connector, "approval.submit", REQUEST, user=STAFF))
        [row] = await bot.services.approvals.for_requester(STAFF)
        await post(bot, connector, message(connector, f"open request {row.reference}", user=MEMBER, conversation_id="a:member"))
        told = await connector.wait_for_text("couldn't check who may do this just now", conversation="a:member")
        assert "Please try again in a minute" in told["text"] and "Gamma" not in json.dumps(told)
        assert await refusals(bot) == []


async def test_a_possible_breach_is_emailed_to_the_governance_mailbox_once(tmp_path, keys, microsoft, connector):
    settings = secured_settings(tmp_path, keys, microsoft.url, governance_mailbox="ai-governance@testshire.gov.uk",
                                mail_sender="genai-bot@testshire.gov.uk", governance_ids="aad-gov")
    microsoft.mail_faults = [503]
    report = {"description": "Copilot summarised Mrs Example's case notes into a shared file.", "tool_name": "Copilot",
              "occurred_at": "2026-11-20 09:30", "personal_data": "yes", "category": "data_exposed", "severity": "high",
              "anonymous": "false"}
    async with running_bot(settings) as bot:
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
