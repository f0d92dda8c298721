"""Microsoft Graph with the bot's own credentials, on the app's one HTTP client (bot/microsoft/http.py).

RetryableConnectorError (429 with Retry-After, 5xx, timeouts, lost connections) lets the outbox and
callers retry; ConnectorError is a refusal that retrying will not change."""

from __future__ import annotations

import ssl

from bot.microsoft.credentials import TokenProvider, build_credential, ssl_context
from bot.microsoft.http import JsonClient
from bot.settings import Settings

TIMEOUT_SECONDS = 15


class GraphClient:
    def __init__(self, settings: Settings, http: JsonClient | None = None) -> None:
        self._settings = settings
        self.base_url = settings.graph_url
        # Graph needs a token from the council's own tenant, not botframework.com.
        self._tokens = TokenProvider(build_credential(settings, tenant=settings.app_tenant_id or None))
        self._http = http or JsonClient()
        self._owns_http = http is None  # a shared client is closed by whoever made it
        self._ssl: ssl.SSLContext | None = None

    async def call(self, method: str, url: str, body: dict | None = None) -> dict:
        """One request; `url` may be a path under the Graph base address or a full @odata.nextLink."""
        if not url.startswith("https://"):
            url = f"{self.base_url}{url}"
        token = await self._tokens.token(f"{self.base_url}/.default")
        if self._ssl is None:
            self._ssl = ssl_context(self._settings)  # CA_BUNDLE, if set, is trusted for Graph
        return await self._http.call(method, url, token=token, body=body, timeout=TIMEOUT_SECONDS,
                                     name="Microsoft Graph", ssl_context=self._ssl)

    async def close(self) -> None:
        if self._owns_http:
            await self._http.close()
        await self._tokens.close()
