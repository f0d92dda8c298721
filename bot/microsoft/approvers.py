"""Who may decide AI tool requests: APPROVER_IDS, and the members of the Entra ID group APPROVER_GROUP_ID.

Group membership comes from Microsoft Graph with the bot's own credentials and is cached for a few
minutes, so a click costs no Graph call and someone removed from the group loses the right soon after."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

import structlog
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from bot.microsoft.graph import GraphClient
from bot.microsoft.http import RetryableConnectorError, backoff
from bot.settings import Settings

log = structlog.get_logger(__name__)


class DirectoryUnavailable(Exception):
    """Microsoft Graph could not be asked and nothing is cached."""


class ApproverDirectory:
    def __init__(self, settings: Settings, graph: GraphClient | None = None) -> None:
        self._settings = settings
        self._group = settings.approver_group_id
        self._graph = graph if graph is not None else (GraphClient(settings) if self._group else None)
        self._owns_graph = graph is None  # a shared client is closed by whoever made it
        self._members: frozenset[str] | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def is_approver(self, user_id: str) -> bool:
        """Raises DirectoryUnavailable only when the answer depends on a group that cannot be read."""
        if user_id in self._settings.approver_ids:
            return True
        if not self._group:
            return False
        return user_id in await self.group_members()

    async def all(self) -> frozenset[str]:
        """Every approver known now; if Graph is down, those configured by id (and the last members seen)."""
        if not self._group:
            return self._settings.approver_ids
        try:
            return self._settings.approver_ids | await self.group_members()
        except DirectoryUnavailable:
            return self._settings.approver_ids

    def _fresh(self) -> bool:
        return self._members is not None and time.monotonic() - self._fetched_at < self._settings.approver_cache_seconds

    async def group_members(self) -> frozenset[str]:
        if self._fresh():
            return self._members
        async with self._lock:
            if self._fresh():
                return self._members
            try:
                self._members = await self._fetch()
                self._fetched_at = time.monotonic()
            except Exception as exc:  # Graph or token endpoint down, or the group is wrong
                if self._members is None:
                    log.error("could not read the approver group from Microsoft Graph", error=str(exc)[:200])
                    raise DirectoryUnavailable(str(exc)) from None
                log.warning("using the last known approver group members; Microsoft Graph failed", error=str(exc)[:200])
            return self._members

    async def _fetch(self) -> frozenset[str]:
        url: str | None = (f"/v1.0/groups/{quote(self._group, safe='')}/transitiveMembers/microsoft.graph.user"
                           "?$select=id&$top=999")
        members: set[str] = set()
        while url:
            page = await self._get(url)
            members.update(item["id"] for item in page.get("value", []) if isinstance(item, dict) and item.get("id"))
            url = page.get("@odata.nextLink")
        log.info("approver group read from Microsoft Graph", members=len(members))
        return frozenset(members)

    async def _get(self, url: str) -> dict:
        async for attempt in AsyncRetrying(retry=retry_if_exception_type(RetryableConnectorError),
                                           stop=stop_after_attempt(3), wait=backoff(0.4, 10.0), reraise=True):
            with attempt:
                return await self._graph.call("GET", url)
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._graph is not None and self._owns_graph:
            await self._graph.close()
