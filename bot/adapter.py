"""The thin layer between Teams' HTTP protocol and our router.

We keep CloudAdapter for what it does well, verifying the Bot Framework token, and
own the rest of the HTTP edge: size limits, plain 400s for bad bodies, invoke
responses returned as they are (4.17.1's `process()` serialises them twice and
answers every `adaptiveCard/action` with 500), and outbound messages through our
pooled connector rather than a per-turn msrest client.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, Awaitable, Callable

import structlog
from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.auth import AuthenticationConstants, PasswordServiceClientCredentialFactory

from bot import openid
from bot.credentials import ssl_context
from bot.settings import Settings
from bot.turn import Incoming, strip_mentions
from storage.records import ConversationRef

log = structlog.get_logger(__name__)

Logic = Callable[[Incoming], Awaitable[dict | None]]

KNOWN_TYPES = {"message", "invoke", "conversationUpdate", "installationUpdate", "messageReaction", "event", "typing",
               "messageUpdate", "messageDelete", "endOfConversation"}


def _auth_configuration(settings: Settings) -> SimpleNamespace:
    config = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_TYPE=settings.app_type if settings.app_id else "MultiTenant",
        APP_TENANTID=settings.app_tenant_id,
    )
    if settings.openid_metadata_url:
        # Overriding one endpoint puts the SDK in "parameterized" mode, which needs them all:
        # keep the public cloud's values for the rest.
        config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.openid_metadata_url
        config.TO_CHANNEL_FROM_BOT_LOGIN_URL = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL
        config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
        config.OAUTH_URL = AuthenticationConstants.OAUTH_URL
        config.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
        config.CALLER_ID = CallerIdConstants.public_azure_channel
    return config


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _text(value: Any, limit: int = 400) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def to_incoming(payload: dict, bot_names: set[str]) -> Incoming | None:
    """Translate a Teams activity into plain data; None when it lacks what any handler needs."""
    conversation = payload.get("conversation") if isinstance(payload.get("conversation"), dict) else {}
    sender = payload.get("from") if isinstance(payload.get("from"), dict) else {}
    recipient = payload.get("recipient") if isinstance(payload.get("recipient"), dict) else {}
    channel_data = payload.get("channelData") if isinstance(payload.get("channelData"), dict) else {}
    conversation_id = _text(conversation.get("id"), 300)
    service_url = _text(payload.get("serviceUrl"), 500)
    sender_id = _text(sender.get("id"), 200)
    if not (conversation_id and service_url and sender_id):
        return None
    tenant = channel_data.get("tenant") if isinstance(channel_data.get("tenant"), dict) else {}
    tenant_id = _text(tenant.get("id"), 64) or _text(conversation.get("tenantId"), 64)
    kind = _text(conversation.get("conversationType"), 20) or "personal"
    team = channel_data.get("team") if isinstance(channel_data.get("team"), dict) else {}
    channel = channel_data.get("channel") if isinstance(channel_data.get("channel"), dict) else {}
    user_id = _text(sender.get("aadObjectId"), 64) or f"teams:{sender_id}"[:64]
    ref = ConversationRef(
        id=conversation_id,
        kind=kind,
        service_url=service_url,
        channel_id=_text(payload.get("channelId"), 50) or "msteams",
        bot_id=_text(recipient.get("id"), 200) or "bot",
        bot_name=_text(recipient.get("name"), 200),
        tenant_id=tenant_id,
        user_id=user_id if kind == "personal" else None,
        user_teams_id=sender_id if kind == "personal" else None,
        team_id=_text(team.get("id"), 300),
        teams_channel_id=_text(channel.get("id"), 300),
    )
    activity_type = payload.get("type")
    value = payload.get("value") if isinstance(payload.get("value"), dict) else {}
    verb, data, text, mentioned = None, {}, "", False
    if activity_type == "invoke":
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        verb = _text(action.get("verb"), 100)
        data = action.get("data") if isinstance(action.get("data"), dict) else {}
    elif activity_type == "message":
        names = set(bot_names) | ({ref.bot_name} if ref.bot_name else set())
        text, mentioned = strip_mentions(payload.get("text") if isinstance(payload.get("text"), str) else "", names)
        if value:  # Action.Submit from an older card
            data = value
            verb = _text(value.get("verb"), 100)
    members_added = payload.get("membersAdded") if isinstance(payload.get("membersAdded"), list) else []
    kinds = {
        "message": "message",
        "invoke": "invoke",
        "installationUpdate": "install" if payload.get("action") in ("add", "add-upgrade") else "other",
        "conversationUpdate": "members_added" if members_added else "other",
    }
    return Incoming(
        kind=kinds.get(activity_type, "other"),
        conversation=ref,
        user_id=user_id,
        user_name=_text(sender.get("name"), 200),
        user_teams_id=sender_id,
        tenant_id=tenant_id,
        text=text,
        verb=verb,
        data=data,
        invoke_name=_text(payload.get("name"), 100),
        activity_id=_text(payload.get("id"), 200),
        reply_to_id=_text(payload.get("replyToId"), 200),
        mentions_bot=mentioned,
        members_added_bot=any(isinstance(m, dict) and m.get("id") == ref.bot_id for m in members_added),
    )


class TeamsAdapter(CloudAdapter):
    def __init__(self, settings: Settings, logic: Logic) -> None:
        # The SDK only validates incoming tokens here; replies go out through our own connector with
        # azure-identity credentials. So it needs just the app id (which audience is ours), never the
        # secret: that also lets certificate and managed identity bots start.
        inbound_only = PasswordServiceClientCredentialFactory(settings.app_id or None, None, settings.app_tenant_id or None)
        openid.install(
            [settings.openid_metadata_url or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
             AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL],
            ssl_context(settings),
        )
        super().__init__(ConfigurationBotFrameworkAuthentication(_auth_configuration(settings), credentials_factory=inbound_only))
        self._settings = settings
        self._logic = logic

    async def handle(self, request: web.Request) -> web.Response:
        limit = self._settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return _problem(413, f"request body is larger than {limit} bytes")
        body = await request.content.read(limit + 1)
        if len(body) > limit:
            return _problem(413, f"request body is larger than {limit} bytes")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _problem(400, "request body is not JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str) or not payload["type"]:
            return _problem(400, "request body is not a Bot Framework activity")

        activity = Activity(
            type=payload["type"],
            channel_id=payload.get("channelId") if isinstance(payload.get("channelId"), str) else None,
            service_url=payload.get("serviceUrl") if isinstance(payload.get("serviceUrl"), str) else None,
        )
        try:
            await self.bot_framework_authentication.authenticate_request(
                activity, request.headers.get("Authorization", "")
            )
        except Exception as exc:  # the SDK raises PermissionError, KeyError or jwt errors for bad tokens
            log.warning("request refused: token not valid", reason=type(exc).__name__)
            return _problem(401, "not authorised")

        if payload["type"] not in KNOWN_TYPES:
            return web.Response(status=200)
        incoming = to_incoming(payload, set())
        if incoming is None:
            return _problem(400, "activity is missing conversation, serviceUrl or from")
        allowed = self._settings.allowed_tenant_ids
        if allowed and incoming.tenant_id not in allowed:
            log.warning("activity refused: tenant not allowed", tenant_id=incoming.tenant_id)
            return _problem(403, "this tenant is not allowed to use the bot")

        invoke_response = await self._logic(incoming)
        if incoming.kind == "invoke":
            response = invoke_response or {"statusCode": 200}
            return web.json_response(response, status=int(response.get("statusCode", 200)))
        return web.Response(status=200)
