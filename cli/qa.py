"""`policy-bot qa`: teach the bot which passage answers a question, and test it on the council's question bank."""

from __future__ import annotations

import asyncio
import csv
import getpass
from pathlib import Path
from typing import Optional

import typer

from cli.common import fail, open_database, policy_repositories, settings_or_exit, spreadsheet_cell

app = typer.Typer(no_args_is_help=True, help="Teach the bot, and test it on your question bank.")

PAIRING_COLUMNS = ("question", "section", "passage")


def _excerpt(text: str | None, limit: int = 90) -> str:
    if not text:
        return "(no longer in the policy)"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


async def _current_version(policies):
    version = await policies.current()
    if version is None:
        fail("no policy is published yet: start the bot once (it publishes POLICY_PATH), or run `policy-bot policy publish`")
    return version


def _run(settings, work):
    """Run `work(policies, pairings, version)` against the current policy version."""
    async def run():
        async with open_database(settings, migrate=settings.is_sqlite) as db:
            policies, pairings = policy_repositories(db, settings)
            return await work(policies, pairings, await _current_version(policies))

    return asyncio.run(run())


@app.command("teach")
def qa_teach(
    question: Optional[str] = typer.Argument(None, help="The question, in the words staff used"),
    section: str = typer.Option(..., "--section", help="The section that answers it, e.g. 7.2"),
    passage: Optional[int] = typer.Option(None, "--passage", min=1,
                                          help="Which paragraph or list item of the section, from 1 (default: the closest)"),
    held: Optional[int] = typer.Option(None, "--held", help="Re-attach this held pairing (from `qa list --held`)"),
    by: Optional[str] = typer.Option(None, "--by", help="Who is teaching (defaults to your login name)"),
) -> None:
    """Pair a question with the passage that answers it: later questions worded like it find that passage."""
    settings = settings_or_exit()
    from domain.pairings import PairingRefused

    async def work(policies, pairings, version):
        wanted = question
        if held is not None and not wanted:
            record = await pairings.get(held)
            wanted = record.question if record is not None else None
        if not wanted:
            fail("give the question to teach, or --held ID to re-attach a held pairing with its own question")
        try:
            pairing = await pairings.teach(question=wanted, policy_version_id=version.id, section=section,
                                           passage_index=passage, actor=by or getpass.getuser(), source="teach",
                                           reattach=held)
        except PairingRefused as exc:
            fail(str(exc))
        return pairing, await pairings.passage(pairing)

    pairing, shown = _run(settings, work)
    typer.echo(f"pairing {pairing.id}: \u201c{pairing.question}\u201d \u2192 {pairing.section}, passage "
               f"{pairing.passage_index}: \u201c{_excerpt(shown.text if shown else None)}\u201d")
    if pairing.redacted:
        typer.echo("personal data was taken out of the question before it was stored")


@app.command("list")
def qa_list(held: bool = typer.Option(False, "--held", help="Show the pairings held for review after a new version")) -> None:
    """List the current version's pairings, or those held for review."""
    settings = settings_or_exit()

    async def work(policies, pairings, version):
        records = await pairings.list(version.id, held=held)
        # A held pairing is shown with the passage it had, in the version it came from.
        show = pairings.held_passage if held else pairings.passage
        return version, [(r, await show(r)) for r in records]

    version, rows = _run(settings, work)
    if not rows:
        typer.echo(f"no pairings {'held for review' if held else 'taught'} for version {version.label}")
        return
    for record, passage in rows:
        reason = f"\t{'passage changed' if record.held_reason == 'changed' else 'passage gone'}" if held else ""
        typer.echo(f"{record.id}\t{record.section} passage {record.passage_index}{reason}\t\u201c{record.question}\u201d"
                   f"\t\u2192 \u201c{_excerpt(passage.text if passage else None, 60)}\u201d\t{record.source}, "
                   f"{record.created_by}")
    if held:
        typer.echo("Re-attach one with `policy-bot qa teach --held ID --section N`, or drop it with `qa forget ID`.")


@app.command("forget")
def qa_forget(
    pairing_id: int = typer.Argument(..., help="The pairing's number (from `qa list`)"),
    by: Optional[str] = typer.Option(None, "--by", help="Who is forgetting it (defaults to your login name)"),
) -> None:
    """Forget a pairing (taught or held): the search stops using it."""
    settings = settings_or_exit()

    async def work(policies, pairings, version):
        return await pairings.forget(pairing_id, actor=by or getpass.getuser())

    forgotten = _run(settings, work)
    if forgotten is None:
        fail(f"there is no pairing {pairing_id}; `policy-bot qa list` shows them")
    typer.echo(f"forgot pairing {forgotten.id}: \u201c{forgotten.question}\u201d \u2192 {forgotten.section}")


@app.command("export")
def qa_export(path: Path = typer.Argument(..., help="CSV file to write")) -> None:
    """Write the current version's pairings as CSV (question, section, passage), ready for `qa import`."""
    settings = settings_or_exit()

    async def work(policies, pairings, version):
        return [(r, await pairings.passage(r)) for r in await pairings.list(version.id)]

    rows = _run(settings, work)
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([*PAIRING_COLUMNS, "passage_text", "source", "taught_by"])
            for record, passage in rows:
                writer.writerow([spreadsheet_cell(record.question), record.section, record.passage_index,
                                 spreadsheet_cell(passage.text if passage else ""), record.source, record.created_by])
    except OSError as exc:
        fail(f"{path}: cannot write it ({exc.strerror or exc})")
    typer.echo(f"wrote {len(rows)} pairings to {path}")


@app.command("import")
def qa_import(
    path: Path = typer.Argument(..., help="CSV with columns question, section and (optionally) passage"),
    by: Optional[str] = typer.Option(None, "--by", help="Who is importing (defaults to your login name)"),
) -> None:
    """Teach every row of a CSV file (such as `qa export` or `qa test --misses` wrote): all rows, or none."""
    settings = settings_or_exit()
    from cli.qa_csv import read_teachings
    from storage.pairings import RowsRefused

    teachings, problems = read_teachings(path)

    async def work(policies, pairings, version):
        actor = by or getpass.getuser()
        try:
            if problems:
                await pairings.teach_all([t for _, t in teachings], policy_version_id=version.id, actor=actor,
                                         check_only=True)
                return None
            return await pairings.teach_all([t for _, t in teachings], policy_version_id=version.id, actor=actor)
        except RowsRefused as exc:
            problems.extend((teachings[n - 1][0], reason) for n, reason in exc.problems)
            return None

    results = _run(settings, work)
    if results is None:
        for row, reason in sorted(problems):
            typer.echo(f"row {row}: {reason}", err=True)
        fail(f"{path.name}: nothing imported; {len(problems)} row(s) need fixing first", code=1)
    for (row, _), (record, new) in zip(teachings, results):
        typer.echo(f"row {row}: {'taught' if new else 'already taught'} as pairing {record.id} "
                   f"({record.section}, passage {record.passage_index})")
    typer.echo(f"imported {sum(new for _, new in results)} new pairing(s) from {len(results)} row(s)")


@app.command("test")
def qa_test(
    bank: Path = typer.Argument(..., help="CSV with columns question and expected (section numbers, or \u201cnot covered\u201d)"),
    policy: Optional[Path] = typer.Option(None, "--policy", help="Test this policy file alone (no taught pairings), "
                                          "instead of the current version"),
    min_top3: Optional[float] = typer.Option(None, "--min-top3", help="Exit with 1 when the share of questions with "
                                             "the right section in the first three is below this, e.g. 0.8"),
    misses: Optional[Path] = typer.Option(None, "--misses", help="Write the misses as CSV, ready for `qa import`"),
) -> None:
    """Run your own question bank against the policy: top-1, top-3, refusals, and each miss."""
    settings = settings_or_exit(log_level="WARNING")
    from cli.qa_bank import load_bank, parse_share, print_score, score_bank, write_misses

    minimum = parse_share(min_top3)
    items = load_bank(bank)
    label, index = _index_to_test(settings, policy)
    score = score_bank(index, items, label)
    print_score(score, label)
    if misses is not None:
        written = write_misses(misses, score)
        typer.echo(f"wrote {written} miss(es) to {misses}: check the section in each row, then `policy-bot qa import {misses}`")
    if minimum is not None and not score.covered:
        fail("--min-top3: no question in the bank names a section that answers it, so there is no top-3 to measure")
    if minimum is not None and score.top3 < minimum:
        typer.echo(f"top-3 is {score.top3:.0%}, below the minimum of {minimum:.0%}", err=True)
        raise typer.Exit(1)


def _index_to_test(settings, policy: Path | None):
    """(what is tested, its index): the file given, or the current version with its pairings."""
    from domain.policy_text import PolicyFileError

    if policy is not None:
        from bot.library import load_policy_file

        try:
            loaded = load_policy_file(policy, settings)
        except PolicyFileError as exc:
            fail(str(exc))
        if not loaded.document.sections:
            fail(f"{policy.name}: found no sections to answer from; is this the policy document?")
        return policy.name, loaded.index

    async def current():
        from cli.common import policy_library

        # Only reading, and a published version means a migrated database: running the migrations (a no-op,
        # but a fifth of the command's time) is left to the commands that write. A schema behind the code is
        # still refused, with the command that upgrades it.
        async with open_database(settings, migrate=False) as db:
            return await policy_library(db, settings).current()

    loaded = asyncio.run(current())
    return (f"version {loaded.version.label}" if loaded.version else loaded.document.title or "the policy"), loaded.index
