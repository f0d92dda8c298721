"""A turn's replies, sent after Teams has had its 200: the request never waits on the connector.

Each conversation's replies go out in the order of its turns. A reply that still fails after the
connector's own retries (429 with Retry-After, 5xx, timeouts) is handed to the outbox, which keeps
trying, so an answer is never silently lost."""

from __future__ import annotations

import asyncio

import structlog

from bot.turn import Outbound, Sent
from storage.outbox import Outbox
from domain.records import ConversationRef

log = structlog.get_logger(__name__)

Reply = tuple[str, ConversationRef, dict]  # outbox key, conversation, activity


class ReplySender:
    def __init__(self, outbound: Outbound, outbox: Outbox, on_queued) -> None:
        self._outbound = outbound
        self._outbox = outbox
        self._on_queued = on_queued  # wakes the delivery worker
        self._tasks: set[asyncio.Task] = set()
        self._last: dict[str, asyncio.Task] = {}

    def send(self, replies: list[Reply], when_sent: dict[str, Sent] | None = None) -> None:
        """`when_sent`: by key, what to tell a reply's id once it is sent (not if it has to wait in the outbox)."""
        if not replies:
            return
        conversation = replies[0][1].id
        previous = self._last.get(conversation)
        task = asyncio.create_task(self._send_in_order(replies, previous, when_sent or {}), name="send-replies")
        self._last[conversation] = task
        self._tasks.add(task)

        def done(finished: asyncio.Task) -> None:
            self._tasks.discard(finished)
            if self._last.get(conversation) is finished:
                del self._last[conversation]

        task.add_done_callback(done)

    async def _send_in_order(self, replies: list[Reply], previous: asyncio.Task | None, when_sent: dict[str, Sent]) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        for position, (key, conversation, activity) in enumerate(replies):
            try:
                activity_id = await self._outbound.send(conversation, activity, activity.get("replyToId"))
            except Exception as error:
                log.warning("reply could not be sent now; queued in the outbox", error=type(error).__name__,
                            conversation_kind=conversation.kind)
                # The rest of this turn's replies queue behind it, so they still arrive in order.
                await self._queue(replies[position:])
                return
            if key in when_sent:
                try:
                    await when_sent[key](activity_id)
                except Exception:
                    log.exception("could not record the id of a sent reply")

    async def _queue(self, replies: list[Reply]) -> None:
        try:
            await self._outbox.add_many(replies)
        except Exception:
            log.exception("could not queue replies in the outbox either", count=len(replies))
            return
        self._on_queued()

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    async def stop(self, grace_seconds: float = 15.0) -> None:
        """Let replies in flight finish (or reach the outbox) before the process exits."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace_seconds)
