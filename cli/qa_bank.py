"""Running a question bank from the command line: progress while it runs, the score as tables, the misses as CSV.

Shared by `policy-bot qa test` and `policy-bot policy publish --check`."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cli.common import fail, spreadsheet_cell

if TYPE_CHECKING:
    from domain.policy_search import PolicyIndex
    from domain.question_bank import BankQuestion, BankScore

PROGRESS_FROM = 40  # questions: a shorter bank finishes before a progress bar would be read
MISS_COLUMNS = ("question", "section", "passage", "shown_instead", "row")


def load_bank(path: Path) -> list[BankQuestion]:
    """The bank's questions, or one line per unreadable row and a refusal: a bank is run whole or not at all."""
    from cli.qa_csv import read_bank

    items, problems = read_bank(path)
    for row, reason in problems:
        typer.echo(f"row {row}: {reason}", err=True)
    if problems:
        fail(f"{path.name}: {len(problems)} row(s) need fixing before the bank can be run")
    return items


def score_bank(index: PolicyIndex, items: list[BankQuestion], label: str) -> BankScore:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from domain.question_bank import run_bank

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True,
                  disable=len(items) < PROGRESS_FROM) as progress:
        task = progress.add_task(f"asking {label}", total=len(items))
        return run_bank(index, items, lambda: progress.advance(task))


def _share(part: float) -> str:
    return f"{part:.0%}"


def print_score(score: BankScore, label: str) -> None:
    """The summary table, then each miss with what was shown instead."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(100, Console().width))
    summary = Table(title=f"Question bank against {label}", show_header=True)
    for name in ("questions", "top-1", "top-3", "refusals", "misses"):
        summary.add_column(name, justify="right")
    top1 = sum(o.top1 for o in score.outcomes)
    top3 = sum(o.top3 for o in score.outcomes)
    refused = sum(o.refused for o in score.outcomes if not o.item.covered)
    summary.add_row(str(len(score.outcomes)), f"{top1}/{score.covered} ({_share(score.top1)})",
                    f"{top3}/{score.covered} ({_share(score.top3)})",
                    f"{refused}/{score.not_covered} ({_share(score.refusals)})" if score.not_covered else "none asked",
                    str(len(score.misses)))
    console.print(summary)
    if not score.misses:
        return
    misses = Table(title="Misses", show_lines=True)
    for name, ratio in (("row", 0), ("question", 3), ("expected", 1), ("shown instead", 3)):
        misses.add_column(name, ratio=ratio or None, overflow="fold")
    for miss in score.misses:
        misses.add_row(str(miss.item.row), miss.item.question, "; ".join(miss.item.expected) or "not covered",
                       miss.shown_instead())
    console.print(misses)


def write_misses(path: Path, score: BankScore) -> int:
    """The misses the bot can be taught (a covered question), as `qa import` reads them; how many were written."""
    teachable = [m for m in score.misses if m.item.covered]
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(MISS_COLUMNS)
            for miss in teachable:
                writer.writerow([spreadsheet_cell(miss.item.question), miss.item.expected[0], "", miss.shown_instead(),
                                 miss.item.row])
    except OSError as exc:
        fail(f"{path}: cannot write it ({exc.strerror or exc})")
    return len(teachable)


def parse_share(value: float | None) -> float | None:
    """--min-top3 as a share: 0.8 and 80 both mean 80%."""
    if value is None:
        return None
    if value < 0 or value > 100:
        fail("--min-top3: give a share such as 0.8, or a percentage such as 80")
    return value / 100 if value > 1 else value
