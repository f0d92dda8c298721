"""`policy-bot ask`: answer policy questions from the command line."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Optional

import typer

from cli.common import fail, open_database, policy_library, settings_or_exit



def ask(
    question: Optional[str] = typer.Argument(None, help="The question (omit with --batch)"),
    policy: Optional[Path] = typer.Option(None, "--policy", help="Answer from this file, without the database"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only"),
    batch: bool = typer.Option(False, "--batch", help="One question per line on stdin, one JSON line out per question"),
) -> None:
    """Answer policy questions from the command line, with the register's verdict on any tool named (as in the chat)."""
    settings = settings_or_exit(log_level="WARNING")
    from domain.policy_text import PolicyFileError

    try:
        loaded, finder = asyncio.run(_load(settings, policy))
    except PolicyFileError as exc:
        fail(str(exc))
    if batch:
        for line in sys.stdin:
            print(json.dumps(_answer(loaded, finder, line.strip())), flush=True)
        return
    if not question:
        fail("give a question, or use --batch to read questions from stdin")
    payload = _answer(loaded, finder, question)
    if as_json:
        print(json.dumps(payload))
    else:
        _print(settings, question, payload)


async def _load(settings, policy: Path | None):
    """The policy to answer from, and the tool register (none when answering from a file alone)."""
    from bot.library import load_policy_file
    from domain.tools import ToolFinder

    if policy is not None:
        loaded = load_policy_file(policy, settings)
        if not any(s.number for s in loaded.document.sections):
            fail(f"{policy.name}: found no numbered sections to answer from; is this the policy document?")
        return loaded, ToolFinder([])
    async with open_database(settings, migrate=settings.is_sqlite) as db:
        library = policy_library(db, settings)
        await library.ensure_register()
        return await library.current(), await library.tool_finder()


def _answer(loaded, finder, text: str) -> dict:
    result = loaded.index.search(text)
    return {
        "answered": result.answered,
        "tentative": result.tentative,
        "results": [{"section": h.section, "title": h.title, "text": h.text, "score": h.score} for h in result.hits]
        if result.answered else [],
        "tools": [{"name": m.name, "on_register": m.tool is not None, "status": m.tool.status if m.tool else None,
                   "conditions": m.tool.conditions if m.tool else None} for m in finder.find(text)],
    }


def _print(settings, question: str, payload: dict) -> None:
    from domain.chatter import is_chatter

    if is_chatter(question):
        typer.echo("Hello! Ask a question about the GenAI policy in your own words (policy-bot --help for the rest).")
        return
    for tool in payload["tools"]:
        typer.echo(_verdict(tool))
    if not payload["answered"] and not payload["tools"]:
        typer.echo(f"The policy doesn't cover that. Contact {settings.genai_authority_name} at {settings.genai_authority_contact}.")
    if payload["tentative"]:
        typer.echo("I'm not sure these passages answer it; check them, or ask the governance team.\n")
    for position, hit in enumerate(payload["results"], start=1):
        typer.echo(f"[{position}] {hit['section']} {hit['title']}\n    {hit['text']}\n")


def _verdict(tool: dict) -> str:
    """The register's entry in words, as the chat gives it first."""
    if not tool["on_register"]:
        return (f"{tool['name']} is not on the approved tools list, so it is presumed unauthorised (policy section 4). "
                "Don't use it for council work unless it is approved first.\n")
    if tool["status"] == "approved":
        return f"{tool['name']} is approved.\n"
    if tool["status"] == "approved with conditions":
        return f"{tool['name']} is approved with conditions: {tool['conditions'] or 'see the register'}\n"
    reason = f" Reason: {tool['conditions']}" if tool["conditions"] else ""
    return f"{tool['name']} is NOT approved for council use.{reason}\n"
