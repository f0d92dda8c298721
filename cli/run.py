"""`policy-bot serve` and `policy-bot chat`: run the bot, over HTTP or in this terminal."""

from __future__ import annotations

import asyncio

import typer

from cli.common import fail, settings_or_exit



def serve(local: bool = typer.Option(False, "--local", help="No Teams credentials: loopback only, authentication off.")) -> None:
    """Run the bot's HTTP service."""
    settings = settings_or_exit()
    if local and settings.has_credentials:
        fail("--local is for running without credentials, but MicrosoftAppId is set; drop --local or unset it")
    if not local and not settings.has_credentials:
        fail("Setting MicrosoftAppId: not set. Set the bot's credentials, or run `policy-bot serve --local` to try it on this machine")
    if local and not settings.host_is_loopback():
        fail(f"Setting HOST: local mode has no authentication, so it only listens on loopback, not {settings.host}")
    from cli.serve import run_server

    run_server(settings, local=local)


def chat() -> None:
    """Talk to the bot in this terminal: the same logic as in Teams, cards shown as text."""
    settings = settings_or_exit(log_level="WARNING")
    from cli.chat import run_chat

    asyncio.run(run_chat(settings))
