"""The one HTTP client for every JSON call the bot makes to Microsoft: the Bot Connector and Graph.

One pooled aiohttp session (up to 100 connections per host, kept alive a minute), the proxy the
environment names, and errors typed for the callers: RetryableConnectorError (408, 412, 429 with
Retry-After, 5xx, timeouts, lost connections) may be retried; ConnectorError is a refusal that
retrying will not change. Each call brings its own token, TLS trust and timeout. Retries are the
caller's (tenacity), with `backoff()`.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import aiohttp
from tenacity import RetryCallState

from bot.microsoft.credentials import Proxies

RETRYABLE_STATUS = {408, 412, 429, 500, 502, 503, 504}


class ConnectorError(Exception):
    """The service refused a request for good (4xx other than 408/412/429)."""

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


def backoff(base: float, cap: float):
    """tenacity's wait: the service's Retry-After (at most `cap`), else full jitter up to base·2ⁿ (at most `cap`).

    Full jitter spreads the retries of many senders instead of synchronising them."""
    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableConnectorError) and error.retry_after is not None:
            return min(error.retry_after, cap)
        return random.uniform(0, min(cap, base * 2 ** (state.attempt_number - 1)))

    return wait


class JsonClient:
    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._proxies = Proxies()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=200, limit_per_host=100, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def call(self, method: str, url: str, *, token: str | None, timeout: float, body: dict | None = None,
                   name: str | None = None, ssl_context: ssl.SSLContext | None = None) -> dict:
        """One request, one attempt. `name` is the service's name in error texts (None: the connector's texts)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        options = {"ssl": ssl_context} if ssl_context is not None else {}
        try:
            async with self._client().request(method, url, json=body, headers=headers, proxy=self._proxies.for_url(url),
                                              timeout=aiohttp.ClientTimeout(total=timeout), **options) as response:
                if response.status in RETRYABLE_STATUS:
                    reason = f"{name} answered {response.status}" if name else response.reason or ""
                    raise RetryableConnectorError(response.status, reason,
                                                  retry_after_seconds(response.headers.get("Retry-After")))
                if response.status >= 400:
                    text = (await response.text())[:200]
                    raise ConnectorError(response.status, f"{name}: {text}" if name else text)
                if response.content_type == "application/json":
                    return await response.json() or {}
                return {}
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
            raise RetryableConnectorError(None, f"{type(exc).__name__} talking to {name or 'the connector'}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
