"""DATABASE_AUTH=entra: an Entra ID token from azure-identity is PostgreSQL's password, refreshed before it expires.

The real path: azure-identity's client-secret flow against the fake Microsoft's HTTPS token endpoint (a test
CA, trusted through CA_BUNDLE), and the test PostgreSQL, where members of `policy_bot_password_role` must give a password
(scripts/start-test-postgres.sh adds that line to pg_hba.conf; everyone else is trusted). The role's password
is set to the token the endpoint issues, and changed when the endpoint moves on to the next token, so a
connection succeeds only with the token the provider has just fetched."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from bot.database import open_database
from bot.settings import SettingsError, load_settings
from support.bots import POSTGRES_URL, make_settings
from support.microsoft import APP_ID, CLIENT_SECRET, TENANT_ID

SCOPE = "https://ossrdbms-aad.database.windows.net/.default"
GROUP_ROLE = "policy_bot_password_role"

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL not set (CI always sets it)")


@pytest.fixture
def entra(microsoft):
    """The fake Microsoft's token endpoint, issuing a new token each time, each lasting one second.

    One second: azure-identity keeps a token it fetched less than 30 s ago until it expires, so the test
    lets each token really expire before the provider's (test-driven) clock asks for the next."""
    microsoft.new_token_each_time = True
    microsoft.token_lifetime = 1
    return microsoft


def entra_settings(tmp_path, entra, role: str, database: str):
    return make_settings(
        role_url(role, database), database_auth="entra", app_id=APP_ID, app_password=CLIENT_SECRET,
        app_type="SingleTenant", app_tenant_id=TENANT_ID, authority_host=entra.url, ca_bundle=tmp_path / "ca.pem",
    )


@pytest.fixture
async def password_role():
    """A fresh login role that must sign in with a password, owning a fresh database; yields (admin, role, db)."""
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
    role, database = f"pbpw_{uuid.uuid4().hex[:10]}", f"test_{uuid.uuid4().hex[:12]}"
    try:
        # Two runs at once on the shared server: the later CREATE ROLE meets the first's as a unique violation.
        await admin.execute(f"DO $$ BEGIN CREATE ROLE {GROUP_ROLE} NOLOGIN; "
                            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
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
    db = open_database(entra_settings(tmp_path, entra, role, database), clock=lambda: now[0])
    loop = asyncio.get_running_loop()
    try:
        # Entra ID accepts any token it issued; here PostgreSQL accepts only the latest one the endpoint issued.
        # The fake runs in a thread of its own, so the password is changed on this test's loop (free meanwhile).
        issued_at: list[float] = []

        def accept_only(token: str) -> None:
            issued_at.append(time.time())
            asyncio.run_coroutine_threadsafe(admin.execute(f"ALTER ROLE {role} PASSWORD '{token}'"), loop).result(10)

        entra.on_issue = accept_only
        await db.upgrade()
        assert await db.schema_problem() is None
        assert len(entra.issued) == 1
        assert {r["scope"] for r in entra.token_requests} == {SCOPE}

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
        # Half its life is counted from the token's issue, not from when the clock was set: on a loaded machine
        # the first fetch can come a second or more after that (the token lasts one).
        now[0] = issued_at[0] + 0.55
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
    db = open_database(entra_settings(tmp_path, entra, role, database))
    try:
        assert await db.schema_problem() == "database unreachable (DBAPIError)"
        assert len(entra.issued) == 1
    finally:
        await db.dispose()


def test_entra_needs_postgresql():
    with pytest.raises(SettingsError, match="DATABASE_AUTH=entra .* DATABASE_URL must be postgresql"):
        load_settings(_env_file=None, database_auth="entra", database_url="sqlite:///x.db")
