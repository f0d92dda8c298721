"""The one fake Bot Connector: Teams' service URL on loopback, recording every request.

It can be told to misbehave (429 with Retry-After, 5xx, a hang, 413 for a message too big) and
answers `GET …/members` with a roster. `serve()` runs it in the test's event loop; `in_thread()`
runs it on a loop of its own, for tests that are not async (a server process under test)."""

from __future__ import annotations

import asyncio
import json
import random
import select
import threading
import time
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Iterator

from aiohttp import web

from support.servers import start


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    headers: dict


@dataclass
class FakeConnector:
    """Stands in for Teams' service URL; records every request and can be told to misbehave."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    # (status, headers), used first; status 0 is a hang: the request is never processed or answered in time
    faults: list[tuple[int, dict]] = field(default_factory=list)
    delay: float = 0.0
    # (share answered 429, share answered 500), drawn per request from a seeded generator
    random_faults: tuple[float, float] | None = None
    members: list[dict] = field(default_factory=list)
    # Like Teams: a message larger than this, counted in UTF-16, is refused with 413 MessageSizeTooBig
    max_message_bytes: int | None = None
    remember: bool = True  # False: answer without recording (a fuzzing run sends thousands)
    _random: random.Random = field(default_factory=lambda: random.Random(20261122))
    _ids: int = 0
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def activities(self) -> list[dict]:
        return [
            r.body for r in list(self.requests)
            if r.method in ("POST", "PUT") and "/activities" in r.path and "_fault" not in (r.body or {})
        ]

    def cards(self) -> list[dict]:
        return [a["content"] for act in self.activities() for a in act.get("attachments", [])]

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.activities()) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"expected {count} activities at the connector, got {len(self.activities())}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:
                pass
        return self.activities()

    async def wait_for_text(self, text: str, timeout: float = 5.0, *, conversation: str | None = None) -> dict:
        """The first activity (optionally in one conversation) whose JSON contains `text`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for r in self.requests:
                if (r.method in ("POST", "PUT") and "/activities" in r.path and "_fault" not in (r.body or {})
                        and (conversation is None or f"/v3/conversations/{conversation}/" in r.path)
                        and text in json.dumps(r.body)):
                    return r.body
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no activity containing {text!r} reached the connector")
            await asyncio.sleep(0.05)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.faults and self.random_faults and request.method in ("POST", "PUT"):
            draw, (throttled, failed) = self._random.random(), self.random_faults
            if draw < throttled + failed:
                self.faults.append((429, {"Retry-After": "0.1"}) if draw < throttled else (500, {}))
        if self.max_message_bytes and body is not None and request.method in ("POST", "PUT") and \
                len(json.dumps(body, ensure_ascii=False).encode("utf-16-le", "surrogatepass")) > self.max_message_bytes:
            self.requests.append(Recorded(request.method, request.path, {"_fault": 413}, dict(request.headers)))
            return web.json_response({"error": {"code": "MessageSizeTooBig", "message": "Message size too big"}}, status=413)
        if self.faults:
            status, headers = self.faults.pop(0)
            self.requests.append(Recorded(request.method, request.path, {"_fault": status}, dict(request.headers)))
            if status == 0:
                await asyncio.sleep(5)
                return web.json_response({"error": "gave up"}, status=504)
            return web.json_response({"error": "injected"}, status=status, headers=headers)
        if self.remember:
            self.requests.append(Recorded(request.method, request.path, body, dict(request.headers)))
        self._arrived.set()
        if request.method == "GET" and request.path.endswith("/members"):
            return web.json_response(self.members)
        self._ids += 1
        return web.json_response({"id": f"activity-{self._ids}"})


def posted_to(connector: FakeConnector, conversation: str) -> list[dict]:
    """New messages the bot posted into one conversation (not updates, not injected faults)."""
    return [r.body for r in connector.requests if f"/v3/conversations/{conversation}/activities" in r.path
            and r.method == "POST" and "_fault" not in (r.body or {})]


def updated_in(connector: FakeConnector, conversation: str) -> list[dict]:
    """Messages the bot updated in place (updateActivity) in one conversation."""
    return [r.body for r in connector.requests if f"/v3/conversations/{conversation}/activities/" in r.path
            and r.method == "PUT" and "_fault" not in (r.body or {})]


async def _start(fake: FakeConnector) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    runner, fake.url = await start(app)
    return runner


@asynccontextmanager
async def serve(fake: FakeConnector | None = None) -> AsyncIterator[FakeConnector]:
    """The fake connector on a loopback port, in the running event loop."""
    fake = fake or FakeConnector()
    runner = await _start(fake)
    try:
        yield fake
    finally:
        await runner.cleanup()


class ThreadedConnector:
    """A fake connector on an event loop of its own, for tests that block (a server process under test)."""

    def __init__(self, **fields) -> None:
        self.fake = FakeConnector(**fields)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._runner = asyncio.run_coroutine_threadsafe(_start(self.fake), self.loop).result(10)

    @property
    def url(self) -> str:
        return self.fake.url

    def idle(self) -> bool:
        """No connection waiting to be accepted and none open: whoever was sending has sent all it will."""
        listening = next(iter(self._runner.sites))._server.sockets[0]
        waiting, _, _ = select.select([listening], [], [], 0)
        return not waiting and not self._runner.server.connections

    def wait_idle(self, timeout: float = 30, settle: float = 0.3) -> None:
        """Idle, and still idle after `settle` seconds (a connection is accepted a moment before it is seen)."""
        deadline = time.monotonic() + timeout
        idle_since = None
        while idle_since is None or time.monotonic() - idle_since < settle:
            assert time.monotonic() < deadline, "the connector is still handling requests"
            if not self.idle():
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            time.sleep(0.01)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@contextmanager
def in_thread(**fields) -> Iterator[ThreadedConnector]:
    """A ThreadedConnector; `fields` set the FakeConnector's (e.g. remember=False)."""
    connector = ThreadedConnector(**fields)
    try:
        yield connector
    finally:
        connector.close()
