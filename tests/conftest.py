"""Shared fixtures: real databases, the real app on a loopback port, and a fake Bot Connector."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import random
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import SERVICES
from cli.wiring import create_app
from cli.serve import prepare
from bot.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
ACTIVITIES = json.loads((FIXTURES / "teams-activities.json").read_text())
TENANT = "00000000-0000-0000-0000-0000000000001"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


def without_proxy_settings(environ) -> None:
    """Remove every proxy variable, in either case (curl, requests and urllib read `no_proxy` as well as `NO_PROXY`).

    Council machines often set them; the suite talks only to loopback, and the tests about proxies
    set exactly the ones they mean. The servers the suite starts as subprocesses inherit the cleaned
    environment, so none of them sends loopback traffic to a proxy either."""
    for name in [n for n in environ if n.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")]:
        del environ[name]


def pytest_configure(config):
    without_proxy_settings(os.environ)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("CI") and not POSTGRES_URL:
        raise pytest.UsageError("CI must run the PostgreSQL tests: TEST_DATABASE_URL is not set")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send_json(handler, body: dict | list, status: int = 200) -> None:
    """Answer from a http.server handler (the fake servers tests run in threads)."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


# ---------- databases ----------

async def _create_postgres_database() -> tuple[str, str]:
    import asyncpg

    admin = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    name = f"test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://"), name


async def _drop_postgres_database(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path):
    """Each storage test runs on SQLite and on PostgreSQL (skipped locally without TEST_DATABASE_URL)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL not set (CI always sets it)")
    url, name = await _create_postgres_database()
    yield url
    await _drop_postgres_database(name)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values = dict(
        database_url=database_url,
        org_name="Testshire Council",
        genai_authority_name="the AI Board",
        genai_authority_contact="ai-board@testshire.gov.uk",
        log_format="json",
        log_level="WARNING",
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")


# ---------- fake Bot Connector ----------

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
    _random: random.Random = field(default_factory=lambda: random.Random(20261122))
    _ids: int = 0
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def activities(self) -> list[dict]:
        return [
            r.body for r in self.requests
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
        self.requests.append(Recorded(request.method, request.path, body, dict(request.headers)))
        self._arrived.set()
        if request.method == "GET" and request.path.endswith("/members"):
            return web.json_response(self.members)
        self._ids += 1
        return web.json_response({"id": f"activity-{self._ids}"})


@pytest.fixture
async def connector():
    fake = FakeConnector()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    await runner.cleanup()


# ---------- the bot itself ----------

@dataclass
class RunningBot:
    url: str
    app: web.Application
    session: aiohttp.ClientSession

    @property
    def services(self):
        return self.app[SERVICES]

    async def settled(self, timeout: float = 10.0) -> None:
        """Wait until replies in flight are sent and the outbox has nothing left to send."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            counts = await self.services.outbox.counts()
            if not counts.get("pending") and not counts.get("sending") and not self.services.replies.busy:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the outbox did not drain: {counts}")
            await asyncio.sleep(0.05)

    async def post(self, activity: dict | bytes | str, headers: dict | None = None) -> aiohttp.ClientResponse:
        """Post an activity; return once Teams would have its answer and the turn's replies have gone out.

        The bot answers before sending its replies (they follow in the background); waiting for them here
        keeps tests that count messages deterministic."""
        if isinstance(activity, dict):
            response = await self.session.post(f"{self.url}/api/messages", json=activity, headers=headers)
        else:
            response = await self.session.post(f"{self.url}/api/messages", data=activity, headers=headers)
        await response.read()
        for _ in range(300):
            if not self.services.replies.busy:
                break
            await asyncio.sleep(0.05)
        return response


async def start_bot(settings: Settings):
    problem = await prepare(settings, local=True)
    assert problem is None, problem
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    session = aiohttp.ClientSession()
    return RunningBot(f"http://127.0.0.1:{port}", app, session), runner


@pytest.fixture
async def bot(settings):
    running, runner = await start_bot(settings)
    yield running
    await running.session.close()
    await runner.cleanup()


# ---------- Teams-shaped activities ----------

def activity(kind: str, connector: FakeConnector, **changes: Any) -> dict:
    """A real Teams activity captured from Microsoft's local client, pointed at our fake connector."""
    data = copy.deepcopy(ACTIVITIES[kind])
    data["serviceUrl"] = connector.url
    data["id"] = str(uuid.uuid4())
    for key, value in changes.items():
        if key == "user":
            data["from"] = {**data["from"], "id": f"29:{value}", "aadObjectId": value, "name": f"User {value}"}
        elif key == "conversation_id":
            data["conversation"] = {**data["conversation"], "id": value}
        else:
            data[key] = value
    return data


def message(connector: FakeConnector, text: str, **changes: Any) -> dict:
    return activity("message-personal", connector, text=text, **changes)


def card_action(connector: FakeConnector, verb: str, data: dict | None = None, *, channel: bool = False, **changes) -> dict:
    kind = "invoke-adaptiveCard/action-channel" if channel else "invoke-adaptiveCard/action-personal"
    invoke = activity(kind, connector, **changes)
    invoke["value"] = {"action": {"type": "Action.Execute", "title": verb, "verb": verb, "data": {"verb": verb, **(data or {})}}}
    return invoke


def channel_message(connector: FakeConnector, text: str, channel_id: str, *, user: str) -> dict:
    """A message in a team channel that @mentions the bot."""
    body = activity("message-channel", connector, text=f"<at>Test Bot</at> {text}", user=user,
                    conversation_id=f"{channel_id};messageid=1")
    body["channelData"] = {**body["channelData"], "channel": {"id": channel_id}}
    return body


def posted_to(connector: FakeConnector, conversation: str) -> list[dict]:
    """New messages the bot posted into one conversation (not updates, not injected faults)."""
    return [r.body for r in connector.requests if f"/v3/conversations/{conversation}/activities" in r.path
            and r.method == "POST" and "_fault" not in (r.body or {})]


def updated_in(connector: FakeConnector, conversation: str) -> list[dict]:
    """Messages the bot updated in place (updateActivity) in one conversation."""
    return [r.body for r in connector.requests if f"/v3/conversations/{conversation}/activities/" in r.path
            and r.method == "PUT" and "_fault" not in (r.body or {})]
