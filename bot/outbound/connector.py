"""Talking to Teams' Bot Connector: the app's one HTTP client (bot/microsoft/http.py), retries that honour
Retry-After.

botbuilder 4.17.1 sends replies through msrest on a small thread pool, opening a new
connection each time and never retrying 429 or 5xx. Everything sent to Teams goes through here.
The error types are the shared client's; they are named here too, as the connector's errors.
"""

from __future__ import annotations

from urllib.parse import quote

import structlog
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, stop_after_delay

from bot.microsoft.credentials import TokenProvider
from bot.microsoft.http import (  # noqa: F401  (the connector's errors, for its callers)
    ConnectorError, JsonClient, RetryableConnectorError, backoff,
)
from bot.service_urls import ServiceUrls
from domain.records import ConversationRef

log = structlog.get_logger(__name__)


class BotConnector:
    feedback_loop = True  # Teams shows its own feedback control on messages that ask for it
    def __init__(
        self,
        tokens: TokenProvider,
        service_urls: ServiceUrls,
        *,
        http: JsonClient | None = None,
        attempts: int = 5,
        base_delay: float = 0.25,
        max_delay: float = 20.0,
        deadline: float = 10.0,
        timeout: float = 15.0,
    ) -> None:
        self._tokens = tokens
        self._service_urls = service_urls
        self._attempts = attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._deadline = deadline
        self._timeout = timeout
        self._http = http or JsonClient()
        self._owns_http = http is None  # a shared client is closed by whoever made it

    async def close(self) -> None:
        if self._owns_http:
            await self._http.close()

    async def _request(self, method: str, url: str, body: dict | None = None) -> dict:
        # Checked here as well as at the edge: stored conversation references are addresses too.
        problem = self._service_urls.problem(url)
        if problem:
            raise ConnectorError(400, f"not an allowed service URL ({problem}); nothing was sent")
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(RetryableConnectorError),
            wait=backoff(self._base_delay, self._max_delay),
            stop=stop_after_attempt(self._attempts) | stop_after_delay(self._deadline),
            reraise=True,
        ):
            with attempt:
                return await self._once(method, url, body)
        raise AssertionError("unreachable")

    async def _once(self, method: str, url: str, body: dict | None) -> dict:
        token = await self._tokens.bot_token()
        return await self._http.call(method, url, token=token, body=body, timeout=self._timeout)

    @staticmethod
    def _conversation_url(ref: ConversationRef) -> str:
        return f"{ref.service_url.rstrip('/')}/v3/conversations/{quote(ref.id, safe='')}"

    async def send(self, ref: ConversationRef, activity: dict, reply_to_id: str | None = None) -> str | None:
        activity = {**activity, "conversation": {"id": ref.id}}  # the outbox stores activities without it
        url = f"{self._conversation_url(ref)}/activities"
        if reply_to_id:
            url += f"/{quote(reply_to_id, safe='')}"
        result = await self._request("POST", url, activity)
        return result.get("id")

    async def update(self, ref: ConversationRef, activity_id: str, activity: dict) -> None:
        await self._request("PUT", f"{self._conversation_url(ref)}/activities/{quote(activity_id, safe='')}", activity)

    async def members(self, ref: ConversationRef) -> list[dict]:
        url = f"{ref.service_url.rstrip('/')}/v3/conversations/{quote(ref.team_id or ref.id, safe='')}/members"
        result = await self._request("GET", url)
        return result if isinstance(result, list) else result.get("members", [])
