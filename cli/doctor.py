"""`policy-bot doctor`: the configuration checklist (bot/doctor.py)."""

from __future__ import annotations

import asyncio

import typer





def doctor() -> None:
    """Check this configuration: settings, database, credentials, Graph permissions, channels, approvers, outbox,
    policy and register. Prints OK, WARN or FAIL with the fix for each; exits 1 if anything failed."""
    from bot.doctor import diagnose, render
    from bot.logs import configure_logging

    configure_logging("ERROR", "console")
    raise typer.Exit(render(asyncio.run(diagnose()), typer.echo))
