"""`policy-bot db`: database migrations."""

from __future__ import annotations

import asyncio

import typer

from cli.common import prepared_database, settings_or_exit


app = typer.Typer(no_args_is_help=True, help="Database migrations.")


@app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (run once per release, before starting the bot)."""
    settings = settings_or_exit()

    async def run() -> None:
        db = await prepared_database(settings, migrate=True)
        revision = await db.current_revision()
        await db.dispose()
        typer.echo(f"database is at revision {revision}")

    asyncio.run(run())
