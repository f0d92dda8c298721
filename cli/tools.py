"""`policy-bot tools`: the approved-tools register."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path

import typer

from cli.common import audit_trail, fail, open_database, settings_or_exit


app = typer.Typer(no_args_is_help=True, help="The approved-tools register.")


@app.command("import")
def tools_import(file: Path = typer.Argument(..., help="CSV or YAML register")) -> None:
    """Add or update register entries from a file."""
    settings = settings_or_exit()
    from domain.tools import RegisterFileError, read_register
    from storage.tools import ToolRepository

    try:
        tools = read_register(file)
    except RegisterFileError as exc:
        fail(str(exc))

    async def run() -> None:
        async with open_database(settings, migrate=settings.is_sqlite) as db:
            added, updated = await ToolRepository(db, audit_trail(db, settings)).upsert(tools, actor=f"cli:{getpass.getuser()}")
        typer.echo(f"register: {added} added, {updated} updated")

    asyncio.run(run())


@app.command("list")
def tools_list() -> None:
    """Show the register."""
    settings = settings_or_exit()
    from storage.tools import ToolRepository

    async def run() -> None:
        async with open_database(settings, migrate=settings.is_sqlite) as db:
            tools = await ToolRepository(db, audit_trail(db, settings)).all()
        if not tools:
            typer.echo("the register is empty")
        for t in tools:
            review = t.review_due.isoformat() if t.review_due else "-"
            typer.echo(f"{t.name}\t{t.status}\t{t.category}\treview {review}\t{t.conditions or ''}")

    asyncio.run(run())
