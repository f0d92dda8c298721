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
    """Answer policy questions from the command line."""
    settings = settings_or_exit(log_level="WARNING")
    from bot.library import load_policy_file
    from domain.policy_text import PolicyFileError

    async def load():
        if policy is not None:
            loaded = load_policy_file(policy, settings)
            if not any(s.number for s in loaded.document.sections):
                fail(f"{policy.name}: found no numbered sections to answer from; is this the policy document?")
            return loaded
        async with open_database(settings, migrate=settings.is_sqlite) as db:
            loaded = await policy_library(db, settings).current()
        return loaded

    try:
        loaded = asyncio.run(load())
    except PolicyFileError as exc:
        fail(str(exc))

    def answer(text: str) -> dict:
        result = loaded.index.search(text)
        return {
            "answered": result.answered,
            "results": [{"section": h.section, "title": h.title, "text": h.text, "score": h.score} for h in result.hits]
            if result.answered else [],
        }

    if batch:
        for line in sys.stdin:
            print(json.dumps(answer(line.strip())), flush=True)
        return
    if not question:
        fail("give a question, or use --batch to read questions from stdin")
    payload = answer(question)
    if as_json:
        print(json.dumps(payload))
        return
    from domain.chatter import is_chatter

    if is_chatter(question):
        typer.echo("Hello! Ask a question about the GenAI policy in your own words (policy-bot --help for the rest).")
        return
    if not payload["answered"]:
        typer.echo(f"The policy doesn't cover that. Contact {settings.genai_authority_name} at {settings.genai_authority_contact}.")
    for position, hit in enumerate(payload["results"], start=1):
        typer.echo(f"[{position}] {hit['section']} {hit['title']}\n    {hit['text']}\n")
