"""Starting the service: database checks, first-run content, banner, then aiohttp."""

from __future__ import annotations

import asyncio
import errno
import socket
import sys

import structlog
from aiohttp import web

from bot.settings import Settings
from cli.wiring import create_app

log = structlog.get_logger(__name__)

LOCAL_BANNER = """
  GenAI policy bot: LOCAL MODE. Authentication is OFF; listening on loopback only.
  Messages:  http://{host}:{port}/api/messages
  Talk to it: policy-bot chat   (in another terminal: .venv/bin/policy-bot chat)
         or: make playground   (the Microsoft 365 Agents Playground, on http://localhost:56150)
  Health:    http://{host}:{port}/healthz   Ready: http://{host}:{port}/readyz
"""


async def prepare(settings: Settings, *, local: bool) -> str | None:
    """Migrate (local mode only), then seed the first policy and register; returns a problem, if any."""
    from storage.audit import AuditTrail
    from bot.database import open_database
    from cli.common import policy_library

    db = open_database(settings)
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
        library = policy_library(db, settings)
        published = await library.ensure_published()
        if published:
            log.info("published the first policy version", label=published.label, source=published.source_name)
        added = await library.ensure_register()
        if added:
            log.info("loaded the example tool register", tools=added)
        return None
    finally:
        await db.dispose()


def can_listen(host: str, port: int) -> str | None:
    """Bind and release the address before doing anything else, so a second start on the same port
    stops at once with one line, not after the banner with aiohttp's traceback."""
    try:
        socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET).close()
    except socket.gaierror:
        return f"Setting HOST: {host} is not an address of this machine"
    except OSError as exc:
        return listen_problem(exc, host, port)
    return None


def run_server(settings: Settings, *, local: bool) -> None:
    problem = can_listen(settings.host, settings.port) or asyncio.run(prepare(settings, local=local))
    if problem:
        print(f"policy-bot: not starting: {problem}", file=sys.stderr)
        raise SystemExit(2)
    if local:
        print(LOCAL_BANNER.format(host=settings.host, port=settings.port), file=sys.stderr, flush=True)
    log.info("starting", host=settings.host, port=settings.port, local=local, database="sqlite" if settings.is_sqlite else "postgresql")
    try:
        web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None, access_log=None)
    except OSError as exc:  # another process took the port after can_listen()
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        print(f"policy-bot: not starting: {listen_problem(exc, settings.host, settings.port)}", file=sys.stderr)
        raise SystemExit(2) from None


def listen_problem(exc: OSError, host: str, port: int) -> str:
    """One plain line for the operator, in the style of the settings errors."""
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is already in use (is the bot already running?); "
                f"stop the other process or set PORT to a free port")
    if exc.errno == errno.EACCES:
        return f"no permission to listen on port {port}; set PORT to 1024 or above"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"Setting HOST: {host} is not an address of this machine"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
