"""The bot's own outbound credentials: a secret, a certificate, or a managed identity."""

from __future__ import annotations

import time

from azure.core.credentials_async import AsyncTokenCredential

from bot.settings import Settings

BOT_SCOPE = "https://api.botframework.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def build_credential(settings: Settings) -> AsyncTokenCredential | None:
    """None in local mode, where the connector is on loopback and wants no token."""
    if not settings.app_id:
        return None
    from azure.identity.aio import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential

    tenant = settings.app_tenant_id or "botframework.com"
    if settings.app_type == "UserAssignedMSI":
        return ManagedIdentityCredential(client_id=settings.app_id)
    if settings.app_certificate_path:
        return CertificateCredential(tenant, settings.app_id, certificate_path=str(settings.app_certificate_path))
    return ClientSecretCredential(tenant, settings.app_id, settings.app_password)


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
