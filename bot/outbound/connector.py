"""Talking to Teams' Bot Connector: one pooled aiohttp session, retries that honour Retry-After.

botbuilder 4.17.1 sends replies through msrest on a small thread pool, opening a new
connection each time and never retrying 429 or 5xx. Everything outbound goes through here.
"""

from __future__ import annotations

import asyncio
import random
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from urllib.parse import quote

import aiohttp
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, stop_after_delay

from bot.microsoft.credentials import Proxies, TokenProvider
from bot.service_urls import ServiceUrls
from domain.records import ConversationRef

log = structlog.get_logger(__name__)

RETRYABLE_STATUS = {408, 412, 429, 500, 502, 503, 504}


class ConnectorError(Exception):
    """The connector refused a request for good (4xx other than 408/412/429)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"connector answered {status}: {reason}")
        self.status = status


class RetryableConnectorError(Exception):
    def __init__(self, status: int | None, reason: str, retry_after: float | None = None) -> None:
        super().__init__(f"connector answered {status}: {reason}" if status else reason)
        self.status = status
        self.retry_after = retry_after


def retry_after_seconds(header: str | None) -> float | None:
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(header) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


def _wait(base: float, cap: float):
    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableConnectorError) and error.retry_after is not None:
            return min(error.retry_after, cap)
        # Full jitter: spreads retries from many senders instead of synchronising them.
        return random.uniform(0, min(cap, base * 2 ** (state.attempt_number - 1)))

    return wait


class BotConnector:
    feedback_loop = True  # Teams shows its own feedback control on messages that ask for it
    def __init__(
        self,
        tokens: TokenProvider,
        service_urls: ServiceUrls,
        *,
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
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._proxies = Proxies()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=200, limit_per_host=100, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _request(self, method: str, url: str, body: dict | None = None) -> dict:
        # Checked here as well as at the edge: stored conversation references are addresses too.
        problem = self._service_urls.problem(url)
        if problem:
            raise ConnectorError(400, f"not an allowed service URL ({problem}); nothing was sent")
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(RetryableConnectorError),
            wait=_wait(self._base_delay, self._max_delay),
            stop=stop_after_attempt(self._attempts) | stop_after_delay(self._deadline),
            reraise=True,
        ):
            with attempt:
                return await self._once(method, url, body)
        raise AssertionError("unreachable")

    async def _once(self, method: str, url: str, body: dict | None) -> dict:
        headers = {}
        token = await self._tokens.bot_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            session = self._client()
            async with session.request(method, url, json=body, headers=headers, proxy=self._proxies.for_url(url)) as response:
                if response.status in RETRYABLE_STATUS:
                    raise RetryableConnectorError(
                        response.status, response.reason or "", retry_after_seconds(response.headers.get("Retry-After"))
                    )
                if response.status >= 400:
                    raise ConnectorError(response.status, (await response.text())[:200])
                if response.content_type == "application/json":
                    return await response.json() or {}
                return {}
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
            raise RetryableConnectorError(None, f"{type(exc).__name__} talking to the connector") from exc

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
