"""The thin layer between Teams' HTTP protocol and our router.

We own the whole HTTP edge: which requests may speak to the bot (the Teams channel's token, checked as
botbuilder's channel path checks it; in local mode, no browser pages), JSON bodies only, read whole and
checked (bot/activity_body.py), size limits, plain 4xx for bad bodies, service URLs limited to
ALLOWED_SERVICE_URLS, invoke responses returned as they are (4.17.1's `process()` serialises them twice
and answers every `adaptiveCard/action` with 500), and outbound messages through our pooled connector
rather than a per-turn msrest client.
"""

from __future__ import annotations

from typing import Awaitable, Callable

import structlog
from aiohttp import web
from botframework.connector.auth import AuthenticationConstants

from bot import signing_keys
from bot.activity import to_incoming
from bot.activity_body import BadBody, parse, read_whole
from bot.channel_auth import ChannelTokens
from bot.microsoft.credentials import ssl_context
from bot.service_urls import ServiceUrls
from bot.settings import Settings
from bot.turn import Incoming

log = structlog.get_logger(__name__)

Logic = Callable[[Incoming], Awaitable[dict | None]]

KNOWN_TYPES = {"message", "invoke", "conversationUpdate", "installationUpdate", "messageReaction", "event", "typing",
               "messageUpdate", "messageDelete", "endOfConversation"}


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class TeamsAdapter:
    def __init__(self, settings: Settings, logic: Logic, service_urls: ServiceUrls) -> None:
        self._settings = settings
        self._logic = logic
        self._service_urls = service_urls
        # Local mode (no app id) has no tokens to check; everywhere else, only the channel's.
        self._tokens: ChannelTokens | None = None
        if settings.has_credentials:
            metadata_url = settings.openid_metadata_url or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
            signing_keys.install([metadata_url], ssl_context(settings))
            self._tokens = ChannelTokens(settings.app_id, metadata_url)

    async def handle(self, request: web.Request) -> web.Response:
        if self._tokens is None and "Origin" in request.headers:
            # Browsers send Origin with every cross-site POST; Teams, the Playground and `policy-bot chat` don't.
            # Without it a web page could drive the unauthenticated local bot.
            log.warning("request refused: from a web page in local mode")
            return _problem(403, "requests from web pages are not accepted in local mode")
        if request.content_type != "application/json":
            return _problem(415, "request body must be application/json")
        limit = self._settings.max_body_bytes
        body = await read_whole(request, limit)
        if body is None:
            return _problem(413, f"request body is larger than {limit} bytes")
        try:
            payload = parse(body)
        except BadBody as bad:
            return _problem(400, str(bad))

        if self._tokens is not None:
            try:
                await self._tokens.check(
                    request.headers.get("Authorization", ""),
                    payload.get("serviceUrl") if isinstance(payload.get("serviceUrl"), str) else None,
                    payload.get("channelId") if isinstance(payload.get("channelId"), str) else None,
                )
            except Exception as exc:  # PermissionError, or the JWT library's errors, for a token that is not valid
                log.warning("request refused: token not valid", reason=type(exc).__name__)
                return _problem(401, "not authorised")

        if payload["type"] not in KNOWN_TYPES:
            return web.Response(status=200)
        incoming = to_incoming(payload)
        if incoming is None:
            return _problem(400, "activity is missing conversation, serviceUrl or from")
        problem = self._service_urls.problem(incoming.conversation.service_url)
        if problem:
            log.warning("activity refused: service URL not allowed", problem=problem)
            return _problem(403, f"this service URL is not allowed: {problem}")
        allowed = self._settings.allowed_tenant_ids
        if allowed and incoming.tenant_id not in allowed:
            log.warning("activity refused: tenant not allowed", tenant_id=incoming.tenant_id)
            return _problem(403, "this tenant is not allowed to use the bot")

        invoke_response = await self._logic(incoming)
        if incoming.kind == "invoke":
            response = invoke_response or {"statusCode": 200}
            if "value" not in response:  # nothing to show: an empty body, as message/submitAction requires
                return web.Response(status=int(response.get("statusCode", 200)))
            return web.json_response(response, status=int(response.get("statusCode", 200)))
        return web.Response(status=200)
