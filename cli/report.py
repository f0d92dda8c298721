"""`policy-bot report`: reports for the governance team and auditors."""

from __future__ import annotations

import asyncio
import getpass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from cli.common import audit_trail, fail, open_database, settings_or_exit, utc_iso


app = typer.Typer(no_args_is_help=True, help="Reports for the governance team and auditors.")


@app.command("acknowledgements")
def report_acknowledgements(csv_path: Optional[Path] = typer.Option(None, "--csv", help="Write one row per known person")) -> None:
    """Who has acknowledged the current policy version (and when), for audits."""
    settings = settings_or_exit()
    import csv

    from storage.acknowledgements import AcknowledgementRepository
    from storage.policies import PolicyRepository

    async def run():
        async with open_database(settings, migrate=settings.is_sqlite) as db:
            audit = audit_trail(db, settings)
            current = await PolicyRepository(db, audit).current()
            rows = await AcknowledgementRepository(db, audit).report(current.id if current else None)
            await audit.append(f"cli:{getpass.getuser()}", "report.exported", "report:acknowledgements",
                               {"rows": len(rows), "file": str(csv_path) if csv_path else None})
        return current, rows

    current, rows = asyncio.run(run())
    done = sum(r.current_acknowledged for r in rows)
    label = current.label if current else "none"
    if csv_path:
        with csv_path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["user_id", "name", "latest_version", "acknowledged_at", "current_acknowledged"])
            for r in rows:
                writer.writerow([r.user_id, r.name or "", r.latest_version or "",
                                 utc_iso(r.acknowledged_at) if r.acknowledged_at else "",
                                 "true" if r.current_acknowledged else "false"])
        typer.echo(f"wrote {len(rows)} rows to {csv_path}", err=True)
    typer.echo(f"current version {label}: {done} of {len(rows)} known people acknowledged")


def _since(value: str | None) -> datetime | None:
    """--since as a date (YYYY-MM-DD), from midnight UTC; by default a year back, the review's span."""
    from datetime import timedelta

    if value is None:
        return datetime.now(timezone.utc) - timedelta(days=365)
    if value.strip().lower() == "all":
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        fail(f"--since: give a date as YYYY-MM-DD, such as 2026-01-31, or \u201call\u201d (not \u201c{value}\u201d)")


@app.command("questions")
def report_questions(
    since: Optional[str] = typer.Option(None, "--since", help="From this date, YYYY-MM-DD, or \u201call\u201d "
                                        "(default: the last 365 days)"),
    csv_path: Optional[Path] = typer.Option(None, "--csv", help="Write every figure as CSV rows (kind, item, count, detail)"),
) -> None:
    """What staff ask, for the policy review: volume, sections cited, unanswered and not-helpful questions,
    escalations waiting. Question text is shown redacted, as it is stored."""
    settings = settings_or_exit()
    start = _since(since)
    from domain.policy_search import tentative_below
    from domain.question_report import build_report
    from storage.question_log import QuestionLog

    async def run():
        async with open_database(settings, migrate=settings.is_sqlite) as db:
            log = QuestionLog(db)
            report = build_report(await log.asked_since(start), await log.escalations_waiting(), since=start,
                                  now=datetime.now(timezone.utc), unsure_below=tentative_below())
            await audit_trail(db, settings).append(f"cli:{getpass.getuser()}", "report.exported", "report:questions",
                                                   {"questions": report.total, "file": str(csv_path) if csv_path else None})
        return report

    report = asyncio.run(run())
    from cli.report_questions import print_report, write_csv

    if csv_path:
        write_csv(csv_path, report)
        typer.echo(f"wrote the report to {csv_path}", err=True)
    print_report(report)


def _waiting(settings, subject: str, csv_path: Path | None, read, write_csv, show) -> None:
    """`read(db, audit)`: the records waiting, in order, written to `csv_path` if given and shown; the export audited
    as the other reports are."""
    async def run():
        async with open_database(settings, migrate=settings.is_sqlite) as db:
            audit = audit_trail(db, settings)
            found = await read(db, audit)
            await audit.append(f"cli:{getpass.getuser()}", "report.exported", subject,
                               {"rows": len(found), "file": str(csv_path) if csv_path else None})
        return found

    found = asyncio.run(run())
    as_of = settings.waited_as_of(datetime.now(settings.zone))
    if csv_path:
        write_csv(csv_path, found, as_of)
        typer.echo(f"wrote {len(found)} rows to {csv_path}", err=True)
    show(found, as_of)


CSV_OPTION = typer.Option(None, "--csv", help="Write one row per item, for a spreadsheet")


@app.command("requests")
def report_requests(csv_path: Optional[Path] = CSV_OPTION) -> None:
    """Tool requests waiting: for a decision, or for the requester's answer to the approvers' question; oldest first.
    Read-only (the export itself is audited)."""
    settings = settings_or_exit()
    from cli.report_waiting import print_requests, write_requests_csv
    from domain.approvals import waiting_oldest_first
    from storage.approvals import ApprovalRepository
    from storage.outbox import Outbox
    from storage.tools import ToolRepository

    async def read(db, audit):
        return waiting_oldest_first(await ApprovalRepository(db, audit, ToolRepository(db, audit), Outbox(db)).pending())

    _waiting(settings, "report:pending-requests", csv_path, read, write_requests_csv, print_requests)


@app.command("incidents")
def report_incidents(csv_path: Optional[Path] = CSV_OPTION) -> None:
    """Incidents not resolved, most urgent first (severity, then the longest waiting), with the ICO deadline of a
    possible personal data breach. An anonymous report's reporter is not named. Read-only (the export is audited)."""
    settings = settings_or_exit()
    from cli.report_waiting import print_incidents, write_incidents_csv
    from domain.incidents import most_urgent_first
    from storage.incidents import IncidentRepository
    from storage.outbox import Outbox

    async def read(db, audit):
        return most_urgent_first(await IncidentRepository(db, audit, Outbox(db)).unresolved())

    _waiting(settings, "report:open-incidents", csv_path, read, write_incidents_csv, print_incidents)
