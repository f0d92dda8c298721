"""Microsoft's token-signing keys, fetched without holding up the event loop.

botbuilder 4.17.1 fetches the OpenID metadata and signing keys with blocking `requests` and no
timeout, once a day. Every turn in the process waits for that fetch, indefinitely if the endpoint
hangs; when the daily refresh fails, every request is refused although yesterday's keys are
still good; and a key Microsoft has just rotated in is refused until the next daily refresh.
This cache takes the SDK's place: aiohttp with a timeout, one fetch at a time, the last good keys
kept when a refresh fails, and an unknown key id looked up again (at most hourly, as the SDK meant).
"""

from __future__ import annotations

import asyncio
import ssl
from datetime import datetime, timedelta

import aiohttp
import structlog
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor, _OpenIdMetadata

from bot.microsoft.credentials import Proxies

log = structlog.get_logger(__name__)

RETRY_AFTER_FAILURE = timedelta(minutes=5)


class OpenIdKeys(_OpenIdMetadata):
    def __init__(self, url: str, ssl_context: ssl.SSLContext, timeout: float = 10.0) -> None:
        super().__init__(url)
        self._ssl = ssl_context
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._refreshing: asyncio.Future | None = None

    async def _refresh(self) -> None:
        # Many turns can find the keys stale at once; they share one fetch.
        if self._refreshing is None or self._refreshing.get_loop() is not asyncio.get_running_loop():
            self._refreshing = asyncio.ensure_future(self._fetch_or_keep())
        refreshing = self._refreshing
        try:
            await asyncio.shield(refreshing)
        finally:
            if self._refreshing is refreshing and refreshing.done():
                self._refreshing = None

    async def _fetch_or_keep(self) -> None:
        try:
            self.keys = await self._fetch()
            self.last_updated = datetime.now()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError, TypeError) as error:
            if not self.keys:
                log.error("could not fetch the token-signing keys", url=self.url, error=type(error).__name__)
                raise
            # Keep yesterday's keys rather than refuse every request; try again in a few minutes.
            log.warning("could not refresh the token-signing keys; keeping the last ones", url=self.url,
                        error=type(error).__name__)
            self.last_updated = datetime.now() - timedelta(days=1) + RETRY_AFTER_FAILURE

    def _find(self, key_id: str):
        # The SDK's own raises IndexError for a key it does not hold, so its hourly refresh for
        # newly rotated keys never ran: saying "not found" lets it.
        if not any(isinstance(key, dict) and key.get("kid") == key_id for key in self.keys):
            return None
        return super()._find(key_id)

    async def _fetch(self) -> list[dict]:
        proxies = Proxies()
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            async with session.get(self.url, ssl=self._ssl, proxy=proxies.for_url(self.url)) as response:
                response.raise_for_status()
                keys_url = (await response.json(content_type=None))["jwks_uri"]
            async with session.get(keys_url, ssl=self._ssl, proxy=proxies.for_url(keys_url)) as response:
                response.raise_for_status()
                keys = (await response.json(content_type=None))["keys"]
        if not isinstance(keys, list):
            raise TypeError("the key set is not a list")
        return keys


def install(urls: list[str], ssl_context: ssl.SSLContext) -> None:
    """Put our cache in the SDK's place for these metadata URLs (the SDK keeps one per URL, process-wide)."""
    for url in dict.fromkeys(urls):
        if not isinstance(JwtTokenExtractor.metadataCache.get(url), OpenIdKeys):
            JwtTokenExtractor.metadataCache[url] = OpenIdKeys(url, ssl_context)
