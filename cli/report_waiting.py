"""Printing and writing `policy-bot report requests` and `policy-bot report incidents`: what waits for the approvers
and the triage teams, in the order the chat's lists use (domain/approvals.py, domain/incidents.py)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Sequence

import typer

from cli.common import fail, spreadsheet_cell, utc_iso
from domain.approvals import DATA_CLASSIFICATIONS
from domain.incidents import CATEGORIES, SEVERITIES, STATUSES, notification_deadline, possible_breach, time_left
from domain.records import ApprovalRequest, Incident
from domain.times import Waited, shown, shown_day, working_days

ANONYMOUS = "Anonymous"  # as on the triage card: the reporter of an anonymous report is not named


def _waiting_for(request: ApprovalRequest) -> str:
    return "answer" if request.open_question else "decision"


def print_requests(requests: Sequence[ApprovalRequest], as_of: Waited) -> None:
    now = as_of.now
    answers = sum(r.open_question is not None for r in requests)
    if not requests:
        typer.echo("Nothing is waiting for a decision: every tool request has been decided.")
        return
    answering = f", {answers} for the requester's answer" if answers else ""
    typer.echo(f"Tool requests waiting: {len(requests)} ({len(requests) - answers} for a decision{answering}), oldest first")
    for r in requests:
        waiting = "the requester's answer" if r.open_question else "a decision"
        late = f"  PAST THE {as_of.target_days}-WORKING-DAY TARGET" if as_of.past_target(r.requested_at) else ""
        typer.echo(f"  {r.reference}  asked {shown_day(r.requested_at, now.tzinfo)} ({as_of.since(r.requested_at)})  "
                   f"{r.tool_name}  by {r.requester_name or r.requester_id}  "
                   f"[{DATA_CLASSIFICATIONS[r.data_classification]}]  waiting for {waiting}{late}")


def print_incidents(incidents: Sequence[Incident], as_of: Waited) -> None:
    now = as_of.now
    if not incidents:
        typer.echo("No incident is open: every report has been resolved.")
        return
    typer.echo(f"Open incidents: {len(incidents)}, most urgent first (severity, then the longest waiting)")
    for i in incidents:
        assignee = i.assignee_name or i.assignee_id
        typer.echo(f"  {i.reference}  {SEVERITIES[i.severity]}  {CATEGORIES[i.category]}  {STATUSES[i.status]}, "
                   f"{f'assigned to {assignee}' if assignee else 'not assigned'}  reported "
                   f"{shown_day(i.reported_at, now.tzinfo)} ({as_of.since(i.reported_at)}) by {_reporter(i)}")
        if possible_breach(i.personal_data):
            deadline = notification_deadline(i.reported_at)
            typer.echo(f"      possible personal data breach: ICO by {shown(deadline, now.tzinfo)} "
                       f"({time_left(deadline, now)})")


def _reporter(incident: Incident) -> str:
    return ANONYMOUS if incident.anonymous else incident.reporter_name or incident.reporter_id


def write_requests_csv(path: Path, requests: Sequence[ApprovalRequest], as_of: Waited) -> None:
    _write(path, ["reference", "tool", "requester_id", "requester_name", "data_classification", "requested_at",
                  "working_days_waiting", "waiting_for", "past_target"],
           [[r.reference, r.tool_name, r.requester_id, r.requester_name or "", r.data_classification,
             utc_iso(r.requested_at), _days(r.requested_at, as_of), _waiting_for(r),
             "yes" if as_of.past_target(r.requested_at) else "no"] for r in requests])


def _days(start: datetime, as_of: Waited) -> int:
    return working_days(start, as_of.now, as_of.now.tzinfo, as_of.holidays)


def write_incidents_csv(path: Path, incidents: Sequence[Incident], as_of: Waited) -> None:
    _write(path, ["reference", "severity", "category", "status", "assignee", "reported_by", "reported_at",
                  "working_days_waiting", "personal_data", "ico_deadline"],
           [[i.reference, i.severity, i.category, i.status, i.assignee_name or i.assignee_id or "", _reporter(i),
             utc_iso(i.reported_at), _days(i.reported_at, as_of), i.personal_data,
             utc_iso(notification_deadline(i.reported_at)) if possible_breach(i.personal_data) else ""]
            for i in incidents])


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([spreadsheet_cell(cell) for cell in row] for row in rows)
    except OSError as exc:
        fail(f"{path}: cannot write it ({exc.strerror or exc})")
