"""Fake services on loopback: an aiohttp app on an ephemeral port, over HTTPS with a test CA if asked."""

from __future__ import annotations

import ssl
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

import trustme
from aiohttp import web


async def start(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> tuple[web.AppRunner, str]:
    """Serve `app` on 127.0.0.1 at a free port; returns the runner (to clean up) and the base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"


@asynccontextmanager
async def serving(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """`app` on loopback for the block; yields its base URL."""
    runner, url = await start(app, ssl_context)
    try:
        yield url
    finally:
        await runner.cleanup()


def tls_for_loopback(ca_bundle: Path) -> ssl.SSLContext:
    """A server TLS context for 127.0.0.1 from a fresh test CA, whose certificate is written to `ca_bundle`
    (the bot trusts it through CA_BUNDLE, as a council behind a TLS-inspecting proxy would)."""
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(ca_bundle))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context
