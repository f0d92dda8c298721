"""The bot's own outbound credentials: a secret, a certificate, or a managed identity."""

from __future__ import annotations

import ssl
import time
import urllib.request
from urllib.parse import urlsplit

from azure.core.credentials_async import AsyncTokenCredential

from bot.settings import Settings

BOT_SCOPE = "https://api.botframework.com/.default"


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """Outbound HTTPS trust: the system's certificate authorities, or CA_BUNDLE instead when set."""
    return ssl.create_default_context(cafile=str(settings.ca_bundle) if settings.ca_bundle else None)


class Proxies:
    """HTTPS_PROXY, HTTP_PROXY and NO_PROXY, read as curl and requests read them.

    aiohttp's own `trust_env` would also do this, but it looks up ~/.netrc on a worker thread
    before every request; here the answer is worked out once per host."""

    def __init__(self) -> None:
        self._proxies = urllib.request.getproxies_environment()
        self._by_host: dict[tuple[str, str], str | None] = {}

    def for_url(self, url: str) -> str | None:
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._by_host:
            proxy = self._proxies.get(parts.scheme)
            if proxy and urllib.request.proxy_bypass_environment(key[1], self._proxies):
                proxy = None
            self._by_host[key] = proxy
        return self._by_host[key]


def build_credential(settings: Settings, *, tenant: str | None = None) -> AsyncTokenCredential | None:
    """None in local mode, where the connector is on loopback and wants no token.

    Bot Framework tokens come from the bot's own tenant (botframework.com for multi-tenant bots);
    Microsoft Graph needs the council's tenant, passed as `tenant`."""
    if not settings.app_id:
        return None
    from azure.identity.aio import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential

    options: dict = {"authority": settings.authority_host}
    if settings.ca_bundle:
        options["connection_verify"] = str(settings.ca_bundle)
    tenant = tenant or settings.app_tenant_id or "botframework.com"
    if settings.app_type == "UserAssignedMSI":
        return ManagedIdentityCredential(client_id=settings.app_id)
    if settings.app_certificate_path:
        return CertificateCredential(tenant, settings.app_id, certificate_path=str(settings.app_certificate_path), **options)
    return ClientSecretCredential(tenant, settings.app_id, settings.app_password, **options)


class TokenProvider:
    """Caches tokens per scope until shortly before they expire."""

    def __init__(self, credential: AsyncTokenCredential | None) -> None:
        self._credential = credential
        self._cache: dict[str, tuple[str, float]] = {}

    async def token(self, scope: str) -> str | None:
        if self._credential is None:
            return None
        cached = self._cache.get(scope)
        if cached and cached[1] - 300 > time.time():
            return cached[0]
        access = await self._credential.get_token(scope)
        self._cache[scope] = (access.token, float(access.expires_on))
        return access.token

    async def bot_token(self) -> str | None:
        return await self.token(BOT_SCOPE)

    async def close(self) -> None:
        if self._credential is not None:
            await self._credential.close()
