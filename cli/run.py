"""`policy-bot serve` and `policy-bot chat`: run the bot, over HTTP or in this terminal."""

from __future__ import annotations

import asyncio
from typing import List, Optional

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


def _names(help_text: str):
    return typer.Option([], metavar="NAME", help=help_text)


def chat(
    as_name: Optional[str] = typer.Option(None, "--as", metavar="NAME", help="Who types first (default: your login name)"),
    approver: List[str] = _names("This person decides tool requests (repeat for more)"),
    governance: List[str] = _names("This person is in the governance team: triage, escalations, the report"),
    security: List[str] = _names("This person is in the IT security team: triage"),
    dpo: List[str] = _names("This person is told of possible personal data breaches"),
    admin: List[str] = _names("This person may register channels"),
) -> None:
    """Talk to the bot in this terminal: the same logic as in Teams, cards shown as text. Several people can take
    part: type /switch NAME to act as someone else; roles given here let you try approvals and triage too."""
    # The terminal is the person's: the chat's cards say what happened (a receipt says where a request went, or
    # that it went nowhere), so only errors of the program itself are logged to it, not the operator's warnings.
    settings = settings_or_exit(log_level="ERROR")
    from cli.chat import run_chat

    roles = {"approver": approver, "governance": governance, "security": security, "dpo": dpo, "admin": admin}
    asyncio.run(run_chat(settings, first=as_name, roles=roles))
