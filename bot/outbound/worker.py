"""The outbox's delivery worker: sends what the outbox holds, one attempt at a time, in order per conversation."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Awaitable, Callable

import structlog
from aiolimiter import AsyncLimiter

from bot.outbound.connector import BotConnector, ConnectorError, RetryableConnectorError
from domain.records import UNREACHABLE, OutboxEntry
from storage.outbox import Outbox

log = structlog.get_logger(__name__)


class Doorbell:
    """Rung after a transaction that queued messages commits, so the worker sends them now rather than at
    its next poll. Built before the worker (handlers hold the bell, not the worker); ringing a bell no
    worker listens to, as in `policy-bot policy publish`, does nothing."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def ring(self) -> None:
        self.event.set()


class DeliveryWorker:
    def __init__(
        self, outbox: Outbox, connector: BotConnector, *, batch: int = 50, idle_seconds: float = 1.0,
        per_tenant_per_second: float = 50, per_conversation_per_second: float = 7, doorbell: Doorbell | None = None,
    ) -> None:
        self._outbox = outbox
        self._connector = connector
        self._batch = batch
        self._idle = idle_seconds
        self._wake = (doorbell or Doorbell()).event
        self._task: asyncio.Task | None = None
        self._stopping = False
        # Teams' limits: about 50 requests a second per app per tenant, 7 a second per conversation.
        self._tenant_rate = per_tenant_per_second
        self._conversation_rate = per_conversation_per_second
        self._tenant_limits: dict[str, AsyncLimiter] = {}
        self._conversation_limits: dict[str, AsyncLimiter] = {}
        self._paused_until: dict[str, float] = {}  # a 429 pauses the whole tenant, not just one message
        # Routes again an entry that was stored unroutable and has been requeued; returns why it still can't go,
        # or None once it is on its way. Set by whoever wires the dialogs in (cli/wiring.py, the terminal chat).
        self.reroute: Callable[[OutboxEntry], Awaitable[str | None]] | None = None

    async def _pace(self, entry: OutboxEntry) -> None:
        tenant = entry.conversation.tenant_id or "-"
        if tenant not in self._tenant_limits:
            # Capacity 1: evenly spaced sends. A bucket of 50 would allow a burst on top of the steady
            # rate, which Teams' sliding window sees as throttle-worthy.
            self._tenant_limits[tenant] = AsyncLimiter(1, 1 / self._tenant_rate)
        conversation = entry.conversation.id
        if conversation not in self._conversation_limits:
            if len(self._conversation_limits) > 10_000:
                self._conversation_limits.clear()  # only recent conversations need pacing
            self._conversation_limits[conversation] = AsyncLimiter(1, 1 / self._conversation_rate)
        pause = self._paused_until.get(tenant, 0.0) - asyncio.get_running_loop().time()
        if pause > 0:
            await asyncio.sleep(pause)
        async with self._conversation_limits[conversation]:
            async with self._tenant_limits[tenant]:
                return

    def wake(self) -> None:
        """Called after a transaction that queued messages commits, so they go now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="outbox-delivery")

    async def stop(self, grace_seconds: float = 20.0) -> None:
        """Finish the batch in hand, then stop. Cancelling mid-batch could leave a send sent but unrecorded,
        or a database commit waiting on a connection that shutdown has already closed."""
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_seconds)
        except asyncio.TimeoutError:
            log.warning("outbox worker did not finish its batch in time; stopping it", grace_seconds=grace_seconds)
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                if await self.run_once():
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox delivery round failed; retrying shortly")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self._idle)
            except asyncio.TimeoutError:
                pass

    async def run_once(self) -> int:
        """Deliver one batch of due entries; returns how many were claimed."""
        if self._stopping and self._task is not None:
            return 0
        entries = await self._outbox.claim(self._batch)
        by_conversation: dict[str, list[OutboxEntry]] = defaultdict(list)
        for entry in entries:
            by_conversation[entry.conversation.id].append(entry)

        async def in_order(queue: list[OutboxEntry]) -> None:
            for entry in queue:
                await self._deliver(entry)

        await asyncio.gather(*(in_order(queue) for queue in by_conversation.values()))
        return len(entries)

    async def drain(self, timeout: float = 30.0) -> None:
        """Deliver until nothing is due (used by the CLI and tests)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while await self.run_once() and asyncio.get_running_loop().time() < deadline:
            pass

    async def _deliver(self, entry: OutboxEntry) -> None:
        if entry.conversation.id.startswith(UNREACHABLE):
            # Never "sent" to a non-address: route it again, or put it back as failed with today's reason.
            problem = await self.reroute(entry) if self.reroute else "it has no address yet"
            if problem:
                await self._outbox.still_unroutable(entry, problem)
            else:
                self.wake()
            return
        await self._pace(entry)
        if not await self._outbox.still_mine(entry):
            return  # pacing outlasted the claim and another worker has the entry now
        try:
            if entry.update_of:
                target = await self._outbox.activity_id_of(entry.update_of)
                if target is None:
                    # The message to update has not gone out yet; it will, and then this can follow.
                    await self._outbox.retry_later(entry, "waiting for the message it updates", 1.0)
                    return
                await self._connector.update(entry.conversation, target, {**entry.activity, "id": target})
                activity_id = target
            else:
                activity_id = await self._connector.send(entry.conversation, entry.activity, entry.activity.get("replyToId"))
        except RetryableConnectorError as error:
            if error.status == 429:
                tenant = entry.conversation.tenant_id or "-"
                resume = asyncio.get_running_loop().time() + (error.retry_after if error.retry_after is not None else 1.0)
                self._paused_until[tenant] = max(self._paused_until.get(tenant, 0.0), resume)
            if not await self._outbox.retry_later(entry, str(error), error.retry_after):
                log.error("outbox entry failed after its last attempt", entry=entry.id, key=entry.key, error=str(error))
            return
        except ConnectorError as error:
            log.error("outbox entry refused by the connector", entry=entry.id, key=entry.key, status=error.status)
            await self._outbox.failed(entry, str(error))
            return
        except Exception as error:  # a bug or an unexpected reply: keep the entry, try again later
            log.exception("outbox entry could not be sent", entry=entry.id, key=entry.key)
            await self._outbox.retry_later(entry, f"{type(error).__name__}", None)
            return
        await self._outbox.delivered(entry, activity_id)
