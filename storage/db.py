"""Engine, sessions, migrations and readiness for SQLite or PostgreSQL."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers proceed while the single writer commits; the busy timeout
    # makes a second process wait for the lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted content is overwritten with zeros, so purged records don't survive in free pages (policy 9.2).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _revision_link(path: Path) -> tuple[str | None, tuple[str, ...]]:
    """(revision, the revisions it revises) of one migration script, read without running it."""
    values = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else getattr(node, "target", None)
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision") and node.value is not None:
            values[target.id] = ast.literal_eval(node.value)
    down = values.get("down_revision")
    return values.get("revision"), tuple(down) if isinstance(down, (tuple, list)) else ((down,) if down else ())


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, password=None, on_dispose=None) -> None:
        """`password`: a callable (sync or async) asyncpg asks for the password of each new connection,
        e.g. a token provider (bot/database.py); `on_dispose`: an async close for whatever it holds."""
        self.url = url
        self._on_dispose = on_dispose
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: SQLAlchemy's error messages would otherwise carry each statement's values (what
        # people wrote, their names) into the logs whenever a statement fails.
        options: dict = {"pool_pre_ping": not self.is_sqlite, "hide_parameters": True}
        if self.is_sqlite:
            # One connection: SQLite has one writer anyway, and several connections in one process meet
            # its busy handler, which sleeps in steps of up to 100 ms. Queueing in the pool is far faster.
            options.update(pool_size=1, max_overflow=0, pool_timeout=60)
        else:
            options.update(pool_size=pool_size, max_overflow=pool_size)
            if password is not None:
                options["connect_args"] = {"password": password}
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, class_=AsyncSession)

    def upsert(self, table, values: dict, key: list[str]):
        """An atomic insert-or-update: safe when two turns or two processes write the same row at once."""
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = sqlite if self.is_sqlite else postgresql
        statement = dialect.insert(table).values(**values)
        changes = {name: statement.excluded[name] for name in values if name not in key and values[name] is not None}
        return statement.on_conflict_do_update(index_elements=key, set_=changes)

    def insert_ignore(self, table, values: dict, key: list[str]):
        """Insert unless a row with the same key exists (idempotent writes)."""
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = sqlite if self.is_sqlite else postgresql
        return dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=key)

    async def reclaim(self) -> None:
        """After a purge on SQLite: copy the write-ahead log into the database and empty it, so old copies of
        purged pages don't linger there. Best effort: a reader holding an old snapshot can keep the log."""
        if self.is_sqlite:
            async with self.engine.connect() as connection:
                await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._on_dispose is not None:
            await self._on_dispose()
            self._on_dispose = None

    # Alembic is imported only to migrate: commands that only read (`qa test`, `ask`) check the schema with
    # the two functions below, which spares them its import (about a fifth of such a command's time).
    def _alembic_config(self) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        return config

    def head_revision(self) -> str | None:
        """The newest migration's revision: the one no other migration revises (they form one line)."""
        links = [_revision_link(path) for path in (MIGRATIONS_DIR / "versions").glob("*.py")]
        heads = {r for r, _ in links if r} - {d for _, down in links for d in down}
        if len(heads) != 1:  # branches or merges: alembic's own reading of the scripts
            from alembic.script import ScriptDirectory

            return ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        return heads.pop()

    async def current_revision(self) -> str | None:
        """The revision the database is at, as alembic records it (None before the first migration)."""
        async with self.engine.connect() as connection:
            if not await connection.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
                return None
            rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        return rows[0] if len(rows) == 1 else None

    async def upgrade(self) -> None:
        from alembic import command

        config = self._alembic_config()

        def run(sync_connection) -> None:
            config.attributes["connection"] = sync_connection
            command.upgrade(config, "head")

        async with self.engine.begin() as connection:
            if not self.is_sqlite:
                # Instances starting together (App Service runs `db upgrade` before `serve`) migrate one at a
                # time: the others wait here, then find the schema already at head. Released at commit.
                await connection.execute(text("SELECT pg_advisory_xact_lock(74192026)"))
            await connection.run_sync(run)

    async def schema_problem(self) -> str | None:
        """None when the database answers and carries the newest migration; else the reason."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            current = await self.current_revision()
        except Exception as exc:  # any driver error means "not ready", reported by type only
            return f"database unreachable ({type(exc).__name__})"
        head = self.head_revision()
        if current != head:
            return f"database schema is at {current or 'nothing'}, code needs {head}; run `policy-bot db upgrade`"
        return None
