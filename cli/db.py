"""`policy-bot db`: database migrations."""

from __future__ import annotations

import asyncio

import typer

from cli.common import open_database, settings_or_exit


app = typer.Typer(no_args_is_help=True, help="Database migrations.")


@app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (run once per release, before starting the bot)."""
    settings = settings_or_exit()

    async def run() -> None:
        async with open_database(settings, migrate=True) as db:
            revision = await db.current_revision()
        typer.echo(f"database is at revision {revision}")

    asyncio.run(run())
