"""DATABASE_AUTH=entra: an Entra ID token from azure-identity is PostgreSQL's password, refreshed before it expires.

The real path: azure-identity's client-secret flow against a local HTTPS token endpoint (a test CA, trusted
through CA_BUNDLE), and the test PostgreSQL, where members of `policy_bot_password_role` must give a password
(scripts/start-test-postgres.sh adds that line to pg_hba.conf; everyone else is trusted). The role's password
is set to the token the endpoint issues, and changed when the endpoint moves on to the next token, so a
connection succeeds only with the token the provider has just fetched."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import parse_qs

import pytest
from aiohttp import web

from bot.database import open_database
from bot.settings import SettingsError, load_settings
from support.bots import POSTGRES_URL, make_settings
from support.servers import serving, tls_for_loopback

APP_ID = "6f1f6d2c-1b7e-4a53-9d0f-2a4c8e1b9f00"
TENANT_ID = "11111111-2222-3333-4444-555555555555"
SCOPE = "https://ossrdbms-aad.database.windows.net/.default"
GROUP_ROLE = "policy_bot_password_role"

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL not set (CI always sets it)")


class TokenEndpoint:
    """Entra ID's token endpoint: issues entra-token-1, -2, … each lasting `lifetime` seconds."""

    def __init__(self) -> None:
        self.url = ""
        self.issued: list[str] = []
        # One second: azure-identity keeps a token it fetched less than 30 s ago until it expires, so the test
        # lets each token really expire before the provider's (test-driven) clock asks for the next.
        self.lifetime = 1
        self.on_issue = None  # an async callable given each new token before it is returned

    async def token(self, request: web.Request) -> web.Response:
        form = {k: v[0] for k, v in parse_qs(await request.text()).items()}
        if form.get("client_secret") != "s3cret-value" or form.get("scope") != SCOPE:
            return web.json_response({"error": "invalid_client"}, status=401)
        token = f"entra-token-{len(self.issued) + 1}-{uuid.uuid4().hex[:8]}"
        self.issued.append(token)
        if self.on_issue is not None:
            await self.on_issue(token)
        return web.json_response({"access_token": token, "token_type": "Bearer",
                                  "expires_in": self.lifetime, "ext_expires_in": self.lifetime})


@pytest.fixture
async def entra(tmp_path):
    fake = TokenEndpoint()
    app = web.Application()
    app.router.add_post("/{tenant}/oauth2/v2.0/token", fake.token)
    async with serving(app, tls_for_loopback(tmp_path / "ca.pem")) as fake.url:
        yield fake


@pytest.fixture
async def password_role():
    """A fresh login role that must sign in with a password, owning a fresh database; yields (admin, role, db)."""
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
    role, database = f"pbpw_{uuid.uuid4().hex[:10]}", f"test_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f"DO $$ BEGIN CREATE ROLE {GROUP_ROLE} NOLOGIN; "
                            "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        await admin.execute(f"CREATE ROLE {role} LOGIN IN ROLE {GROUP_ROLE}")
        await admin.execute(f'CREATE DATABASE "{database}" OWNER {role}')
        yield admin, role, database
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
    finally:
        await admin.close()


def role_url(role: str, database: str) -> str:
    base = POSTGRES_URL.split("@", 1)[1].rsplit("/", 1)[0]  # host:port
    return f"postgresql+asyncpg://{role}@{base}/{database}"


@needs_postgres
async def test_the_token_is_the_password_and_is_refreshed_before_it_expires(tmp_path, entra, password_role):
    import asyncpg

    admin, role, database = password_role
    host, port = POSTGRES_URL.split("@", 1)[1].split("/", 1)[0].split(":")
    # The server really checks this role's password (pg_hba.conf), or nothing below would prove anything.
    await admin.execute(f"ALTER ROLE {role} PASSWORD 'not-the-token'")
    try:
        connection = await asyncpg.connect(host=host, port=int(port), user=role, database=database, password="wrong")
    except asyncpg.InvalidPasswordError:
        pass
    else:
        await connection.close()
        pytest.fail(f"the test PostgreSQL trusts {GROUP_ROLE} members: it was started by an older "
                    "scripts/start-test-postgres.sh; run the current one (it adds the pg_hba.conf line and reloads)")
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(host=host, port=int(port), user=role, database=database)

    now = [time.time()]
    settings = make_settings(
        role_url(role, database), database_auth="entra", app_id=APP_ID, app_password="s3cret-value",
        app_type="SingleTenant", app_tenant_id=TENANT_ID, authority_host=entra.url, ca_bundle=tmp_path / "ca.pem",
    )
    db = open_database(settings, clock=lambda: now[0])
    try:
        # Entra ID accepts any token it issued; here PostgreSQL accepts only the latest one the endpoint issued.
        async def accept_only(token: str) -> None:
            await admin.execute(f"ALTER ROLE {role} PASSWORD '{token}'")

        entra.on_issue = accept_only
        await db.upgrade()
        assert await db.schema_problem() is None
        assert len(entra.issued) == 1

        # Several new connections within the token's life share it: no second fetch.
        await db.engine.dispose()
        async def query() -> int:
            async with db.engine.connect() as connection:
                return (await connection.exec_driver_sql("SELECT 1")).scalar()
        assert await asyncio.gather(query(), query(), query()) == [1, 1, 1]
        assert len(entra.issued) == 1

        # The provider's clock stands still: the cached token is still the password, whatever real time does.
        await asyncio.sleep(1.1)
        await db.engine.dispose()
        assert await query() == 1
        assert len(entra.issued) == 1

        # Past half the token's life on the provider's clock it fetches the next token before a new connection,
        # and the server now accepts only that one: the connection works only because the provider fetched it.
        now[0] += 0.6
        await db.engine.dispose()
        assert await query() == 1
        assert len(entra.issued) == 2
        async with db.engine.connect() as connection:
            assert (await connection.exec_driver_sql("SELECT current_user")).scalar() == role

        # The old token no longer opens a connection, so the one above used the new one.
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(host=host, port=int(port), user=role, database=database, password=entra.issued[0])
    finally:
        await db.dispose()


@needs_postgres
async def test_a_refused_token_is_a_clear_not_ready_reason(tmp_path, entra, password_role):
    admin, role, database = password_role
    await admin.execute(f"ALTER ROLE {role} PASSWORD 'something-else'")
    settings = make_settings(
        role_url(role, database), database_auth="entra", app_id=APP_ID, app_password="s3cret-value",
        app_type="SingleTenant", app_tenant_id=TENANT_ID, authority_host=entra.url, ca_bundle=tmp_path / "ca.pem",
    )
    db = open_database(settings)
    try:
        assert await db.schema_problem() == "database unreachable (DBAPIError)"
        assert len(entra.issued) == 1
    finally:
        await db.dispose()


def test_entra_needs_postgresql():
    with pytest.raises(SettingsError, match="DATABASE_AUTH=entra .* DATABASE_URL must be postgresql"):
        load_settings(_env_file=None, database_auth="entra", database_url="sqlite:///x.db")
