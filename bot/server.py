"""Starting the service: database checks, first-run content, banner, then aiohttp."""

from __future__ import annotations

import asyncio
import sys

import structlog
from aiohttp import web

from bot.app import create_app
from bot.settings import Settings

log = structlog.get_logger(__name__)

LOCAL_BANNER = """
  GenAI policy bot: LOCAL MODE. Authentication is OFF; listening on loopback only.
  Messages:  http://{host}:{port}/api/messages
  Talk to it: policy-bot chat   (in another terminal: .venv/bin/policy-bot chat)
         or: npx -p @microsoft/m365agentsplayground agentsplayground -e <Messages URL> -c msteams
  Health:    http://{host}:{port}/healthz   Ready: http://{host}:{port}/readyz
"""


async def prepare(settings: Settings, *, local: bool) -> str | None:
    """Migrate (local mode only), then seed the first policy and register; returns a problem, if any."""
    from bot.library import PolicyLibrary
    from storage.audit import AuditTrail
    from storage.db import Database
    from storage.policies import PolicyRepository
    from storage.tools import ToolRepository

    db = Database(settings.database_url)
    try:
        if local:
            await db.upgrade()
        problem = await db.schema_problem()
        if problem:
            return problem
        audit = AuditTrail(db, key=settings.audit_key_bytes)
        problem = await audit.key_problem()
        if problem:
            return f"{problem}; the chain would break (Setting AUDIT_KEY)"
        library = PolicyLibrary(settings, PolicyRepository(db, audit), ToolRepository(db, audit))
        published = await library.ensure_published()
        if published:
            log.info("published the first policy version", label=published.label, source=published.source_name)
        added = await library.ensure_register()
        if added:
            log.info("loaded the example tool register", tools=added)
        return None
    finally:
        await db.dispose()


def run_server(settings: Settings, *, local: bool) -> None:
    problem = asyncio.run(prepare(settings, local=local))
    if problem:
        print(f"policy-bot: not starting: {problem}", file=sys.stderr)
        raise SystemExit(2)
    if local:
        print(LOCAL_BANNER.format(host=settings.host, port=settings.port), file=sys.stderr, flush=True)
    log.info("starting", host=settings.host, port=settings.port, local=local, database="sqlite" if settings.is_sqlite else "postgresql")
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None, access_log=None)
