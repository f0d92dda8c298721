"""Settings for tests, and the real app (cli.wiring.create_app) on an ephemeral loopback port."""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bot.app import REPLIES, SERVICES
from bot.settings import Settings
from cli.serve import prepare
from cli.wiring import create_app
from storage.models import AuditRow
from support.activities import message
from support.connector import posted_to

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")  # the test server's admin URL; empty: PostgreSQL tests skip


def sqlite_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'bot.db'}"


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


@dataclass
class RunningBot:
    url: str
    app: web.Application
    session: aiohttp.ClientSession
    database_url: str = ""

    @property
    def services(self):
        return self.app[SERVICES]

    async def settled(self, timeout: float = 10.0) -> None:
        """Wait until replies in flight are sent and the outbox has nothing left to send."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            counts = await self.services.outbox.counts()
            if not counts.get("pending") and not counts.get("sending") and not self.app[REPLIES].busy:
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
            if not self.app[REPLIES].busy:
                break
            await asyncio.sleep(0.05)
        return response


async def refusals(bot: RunningBot) -> list[tuple[str, str, dict]]:
    """(actor, subject, detail) of every `role.refused` audit entry, oldest first."""
    async with bot.services.db.sessions() as session:
        rows = await session.execute(select(AuditRow.actor, AuditRow.subject, AuditRow.detail)
                                     .where(AuditRow.action == "role.refused").order_by(AuditRow.id))
        return [tuple(row) for row in rows]


async def typed_in_own_chat(bot: RunningBot, connector, text: str, user: str) -> dict:
    """`user` types `text` in their 1:1 chat with the bot (opened first, the welcome out of the way): the one
    message the bot sends back."""
    await bot.post(message(connector, "help", user=user, conversation_id=f"a:{user}"))
    await bot.settled()
    before = len(posted_to(connector, f"a:{user}"))
    await bot.post(message(connector, text, user=user, conversation_id=f"a:{user}"))
    await bot.settled()
    [shown] = posted_to(connector, f"a:{user}")[before:]
    return shown


@asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[RunningBot]:
    """The service as `policy-bot serve --local` prepares it (migrated, example policy), on a loopback port."""
    problem = await prepare(settings, local=True)
    assert problem is None, problem
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    session = aiohttp.ClientSession()
    try:
        yield RunningBot(f"http://127.0.0.1:{port}", runner.app, session, settings.database_url)
    finally:
        await session.close()
        await runner.cleanup()
