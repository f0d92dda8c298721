"""Fixtures only: real databases, the fake Bot Connector, the fake Microsoft, and the real app on a loopback port.

What the fixtures are built from lives in tests/support/ (see its docstring). A test module that needs
other settings for the `bot` fixture overrides `bot_settings`:

    @pytest.fixture
    def bot_settings():
        return dict(governance_ids="aad-gov")
"""

from __future__ import annotations

import os
import uuid

import pytest

from bot.settings import Settings
from support.bots import POSTGRES_URL, make_settings, running_bot, sqlite_url
from support.connector import in_thread, serve
from support.microsoft import IDENTITY_HEADER, FakeMicrosoft


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


@pytest.fixture
def bot_settings() -> dict:
    """Settings the `bot` fixture's bot gets beyond make_settings' defaults; a test module may override this."""
    return {}


@pytest.fixture
def settings(tmp_path, bot_settings) -> Settings:
    return make_settings(sqlite_url(tmp_path), **bot_settings)


@pytest.fixture
async def connector():
    """The fake Bot Connector, as Teams' service URL."""
    async with serve() as fake:
        yield fake


@pytest.fixture
def threaded_connector():
    """The fake Bot Connector on an event loop of its own, for tests that block (a server process under test)."""
    with in_thread() as connector:
        yield connector


@pytest.fixture
async def bot(settings):
    """The real app on a loopback port (SQLite in tmp_path), prepared as `policy-bot serve --local` prepares it."""
    async with running_bot(settings) as running:
        yield running


@pytest.fixture
def microsoft(tmp_path):
    """The fake Microsoft (Entra ID, Graph, managed identity, signing keys); its test CA is in tmp_path/ca.pem."""
    fake = FakeMicrosoft(tmp_path / "ca.pem")
    yield fake
    fake.close()


@pytest.fixture
def keys(microsoft):
    """The channel's OpenID metadata and signing keys (served by the fake Microsoft)."""
    return microsoft


@pytest.fixture
def managed_identity(microsoft, monkeypatch):
    """App Service's managed identity endpoint, where azure-identity looks for it; yields what it was asked."""
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{microsoft.plain_url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
    return microsoft.identity_requests
