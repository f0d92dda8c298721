"""Opening the database from settings: the URL's own password, or an Entra ID token (DATABASE_AUTH=entra).

Azure Database for PostgreSQL accepts an Entra ID access token as the password. Tokens last about an hour,
so asyncpg is given a callable instead of a fixed password: it runs for every new connection and returns
the cached token, fetching a new one a few minutes before the old one expires. Connections already open
stay open when their token expires; only new ones need a fresh token."""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable

from bot.settings import Settings
from storage.db import Database

# A token and when it expires (seconds since the epoch).
TokenFetch = Callable[[], Awaitable[tuple[str, float]]]


class RefreshingPassword:
    """asyncpg's password hook: a token, cached until shortly before it expires.

    It is refreshed when less than `refresh_before` seconds (at most half its lifetime) remain, so a
    connection is never opened with a token about to lapse. One fetch at a time: connections opened
    together share it."""

    def __init__(self, fetch: TokenFetch, *, refresh_before: float = 300.0,
                 clock: Callable[[], float] = time.time) -> None:
        self._fetch = fetch
        self._refresh_before = refresh_before
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def __call__(self) -> str:
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        async with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                token, expires_on = await self._fetch()
                now = self._clock()
                margin = min(self._refresh_before, max(expires_on - now, 0) / 2)
                self._token, self._refresh_at = token, expires_on - margin
                self.fetches += 1
            return self._token


def entra_token_fetch(settings: Settings) -> tuple[TokenFetch, Callable[[], Awaitable[None]]]:
    """Tokens for Azure Database for PostgreSQL from the bot's own identity, and a function to close it.

    The same identity as the bot (managed identity, certificate or secret, in the council's tenant); without
    bot credentials, azure-identity's DefaultAzureCredential (AZURE_CLIENT_ID and friends, a managed identity,
    or the Azure CLI's sign-in on a developer's machine)."""
    from bot.microsoft.credentials import build_credential

    credential = build_credential(settings, tenant=settings.app_tenant_id or None)
    if credential is None:
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential()

    async def fetch() -> tuple[str, float]:
        access = await credential.get_token(settings.database_token_scope)
        return access.token, float(access.expires_on)

    return fetch, credential.close


def open_database(settings: Settings, *, clock: Callable[[], float] = time.time, **options) -> Database:
    """The Database for these settings; with DATABASE_AUTH=entra its connections sign in with Entra tokens.

    `clock` decides when a token is due for refresh (tests move it on instead of waiting an hour)."""
    if settings.database_auth != "entra":
        return Database(settings.database_url, **options)
    fetch, close = entra_token_fetch(settings)
    return Database(settings.database_url, password=RefreshingPassword(fetch, clock=clock), on_dispose=close, **options)
