"""Printing and writing `policy-bot report questions` (the figures come from domain/question_report.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import typer

from cli.common import fail, spreadsheet_cell
from domain.records import QuestionGroup, QuestionsReport

SHOWN_GROUPS = 20


def _groups(title: str, groups: list[QuestionGroup]) -> None:
    typer.echo(f"\n{title}: {sum(g.count for g in groups)} question(s) in {len(groups)} group(s) of similar wording")
    for group in groups[:SHOWN_GROUPS]:
        typer.echo(f"  {group.count:4}\u00d7  \u201c{group.wording}\u201d  (last {group.last_asked:%Y-%m-%d})")
    if len(groups) > SHOWN_GROUPS:
        typer.echo(f"  and {len(groups) - SHOWN_GROUPS} more groups (all of them are in --csv)")


def print_report(report: QuestionsReport) -> None:
    span = f"since {report.since:%Y-%m-%d}" if report.since else "all time"
    typer.echo(f"Questions asked {span}: {report.total}; answered without a person: {report.answered_without_person} "
               f"({report.share_without_person:.0%})")
    typer.echo("\nPer week (starting Monday):")
    for week, count in report.weekly:
        typer.echo(f"  {week:%Y-%m-%d}  {count}")
    typer.echo("\nSections most cited in answers:")
    for section, title, count in report.sections:
        typer.echo(f"  {count:4}  {section} {title}")
    if not report.sections:
        typer.echo("  none yet")
    _groups("Not answered", report.unanswered)
    _groups("Rated not helpful", report.not_helpful)
    _groups("Answered, but unsure (the answer said so; pair the right passage with policy-bot qa teach)", report.unsure)
    typer.echo(f"\nEscalations waiting: {len(report.waiting)}")
    for waiting in report.waiting:
        typer.echo(f"  {waiting.named}, {waiting.age_days} day(s): \u201c{waiting.wording}\u201d")


def write_csv(path: Path, report: QuestionsReport) -> None:
    """One table: kind, item, count, detail, so a spreadsheet can filter each part."""
    rows = [("asked", "total", report.total, ""),
            ("answered_without_person", "", report.answered_without_person, f"{report.share_without_person:.3f}")]
    rows += [("week", f"{week:%Y-%m-%d}", count, "") for week, count in report.weekly]
    rows += [("section", section, count, title) for section, title, count in report.sections]
    rows += [("not_answered", g.wording, g.count, f"{g.last_asked:%Y-%m-%d}") for g in report.unanswered]
    rows += [("not_helpful", g.wording, g.count, f"{g.last_asked:%Y-%m-%d}") for g in report.not_helpful]
    rows += [("answered_unsure", g.wording, g.count, f"{g.last_asked:%Y-%m-%d}") for g in report.unsure]
    rows += [("escalation_waiting", w.wording, w.age_days, w.named) for w in report.waiting]
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["kind", "item", "count", "detail"])
            writer.writerows([spreadsheet_cell(cell) for cell in row] for row in rows)
    except OSError as exc:
        fail(f"{path}: cannot write it ({exc.strerror or exc})")
