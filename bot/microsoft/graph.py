"""Microsoft Graph with the bot's own credentials: one pooled session, errors typed like the connector's.

RetryableConnectorError (429 with Retry-After, 5xx, timeouts, lost connections) lets the outbox and
callers retry; ConnectorError is a refusal that retrying will not change."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.outbound.connector import RETRYABLE_STATUS, ConnectorError, RetryableConnectorError, retry_after_seconds
from bot.microsoft.credentials import Proxies, TokenProvider, build_credential, ssl_context
from bot.settings import Settings


class GraphClient:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.base_url = settings.graph_url
        # Graph needs a token from the council's own tenant, not botframework.com.
        self._tokens = TokenProvider(build_credential(settings, tenant=settings.app_tenant_id or None))
        self._session: aiohttp.ClientSession | None = None
        self._proxies = Proxies()

    async def call(self, method: str, url: str, body: dict | None = None) -> dict:
        """One request; `url` may be a path under the Graph base address or a full @odata.nextLink."""
        if not url.startswith("https://"):
            url = f"{self.base_url}{url}"
        token = await self._tokens.token(f"{self.base_url}/.default")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl_context(self._settings)),
                                                  timeout=aiohttp.ClientTimeout(total=15))
        try:
            async with self._session.request(method, url, json=body, headers=headers,
                                             proxy=self._proxies.for_url(url)) as response:
                if response.status in RETRYABLE_STATUS:
                    raise RetryableConnectorError(response.status, f"Microsoft Graph answered {response.status}",
                                                  retry_after_seconds(response.headers.get("Retry-After")))
                if response.status >= 400:
                    raise ConnectorError(response.status, f"Microsoft Graph: {(await response.text())[:200]}")
                if response.content_type == "application/json":
                    return await response.json() or {}
                return {}
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
            raise RetryableConnectorError(None, f"{type(exc).__name__} talking to Microsoft Graph") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        await self._tokens.close()
