"""Incident reports (policy 13): what a report must hold, how triage may change it, and the 72-hour clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Iterable

from domain.forms import text as _text
from domain.records import Incident, IncidentForm

PERSONAL_DATA = {"yes": "Yes", "no": "No", "unsure": "Not sure"}
CATEGORIES = {
    "data_exposed": "Personal or confidential data exposed",
    "harmful_output": "Harmful, offensive or biased output",
    "inaccurate_output": "Inaccurate output relied on",
    "security": "Security concern",
    "unapproved_tool": "Unapproved tool in use",
    "other": "Other",
}
SEVERITIES = {"low": "Low", "medium": "Medium", "high": "High"}
MOST_SEVERE_FIRST = ("high", "medium", "low")
STATUSES = {"new": "New", "acknowledged": "Acknowledged", "in_progress": "In progress", "resolved": "Resolved"}
BREACH_NOTIFICATION_HOURS = 72
# An on/off switch (a card's Toggle sends "true"/"false"; the terminal chat lets people type): only clear answers.
SWITCH = {"true": True, "yes": True, "y": True, "on": True, "1": True,
          "false": False, "no": False, "n": False, "off": False, "0": False, "": False}
LIMITS = {"description": 4000, "tool_name": 200, "note": 2000, "outcome": 2000}


_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d", "%d/%m/%Y")


def parse_when(text: str, zone: tzinfo = timezone.utc) -> datetime | None:
    """A time as typed, read in `zone` (the organisation's: the form shows its time there), given back in UTC.
    A trailing Z means UTC whatever the zone."""
    if text.strip().endswith("Z"):
        zone = timezone.utc
    text = re.sub(r"\s+", " ", text.strip().rstrip("Z"))
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone).astimezone(timezone.utc)
        except ValueError:
            continue
    return None


def validate_report(values: dict, now: datetime) -> tuple[IncidentForm | None, dict[str, str]]:
    """The cleaned report, or the problems in plain words keyed by the input they concern. A typed time is read in
    `now`'s zone (the organisation's)."""
    errors: dict[str, str] = {}
    description, tool = _text(values, "description"), _text(values, "tool_name")
    if not description:
        errors["description"] = "Please say what happened."
    elif len(description) > LIMITS["description"]:
        errors["description"] = f"Please keep this under {LIMITS['description']} characters (it is {len(description)})."
    if not tool:
        errors["tool_name"] = "Please name the AI tool involved, or write 'unknown'."
    elif len(tool) > LIMITS["tool_name"]:
        errors["tool_name"] = f"Please keep the tool's name under {LIMITS['tool_name']} characters."
    when_text = _text(values, "occurred_at")
    occurred = parse_when(when_text, now.tzinfo or timezone.utc) if when_text else now
    if occurred is None:
        errors["occurred_at"] = "Please give the date and time as YYYY-MM-DD HH:MM, for example 2026-03-14 09:30."
    elif occurred > now + timedelta(minutes=10):
        errors["occurred_at"] = "That time is in the future; please give when it happened."
    choices = {"personal_data": PERSONAL_DATA, "category": CATEGORIES, "severity": SEVERITIES}
    picked: dict[str, str] = {}
    for name, allowed in choices.items():
        value = _text(values, name)
        if not value:
            errors[name] = "Please choose one."
        elif value not in allowed:
            errors[name] = "Please choose one of the options listed."
        else:
            picked[name] = value
    anonymous = SWITCH.get(_text(values, "anonymous").lower())
    if anonymous is None:
        errors["anonymous"] = "Please answer yes or no: hide your name from the triage channel?"
    if errors:
        return None, errors
    occurred = occurred.astimezone(timezone.utc)
    return IncidentForm(description, tool, occurred, picked["personal_data"], picked["category"], picked["severity"], anonymous), {}


def possible_breach(personal_data: str) -> bool:
    return personal_data in ("yes", "unsure")


def notification_deadline(reported_at: datetime) -> datetime:
    return reported_at + timedelta(hours=BREACH_NOTIFICATION_HOURS)


def time_left(deadline: datetime, now: datetime) -> str:
    seconds = (deadline - now).total_seconds()
    if seconds <= 0:
        return "the deadline has passed"
    hours, minutes = int(seconds // 3600), int(seconds % 3600 // 60)
    return f"{hours} h {minutes} min left"


def most_urgent_first(incidents: Iterable[Incident]) -> list[Incident]:
    """The incidents not resolved yet, the most severe first and, within a severity, the longest waiting."""
    return sorted((i for i in incidents if i.status != "resolved"),
                  key=lambda i: (MOST_SEVERE_FIRST.index(i.severity), i.reported_at, i.reference))


class TriageRefused(ValueError):
    """The change cannot be made; the message says why in plain words."""


ACTIONS = ("acknowledge", "assign", "severity", "note", "resolve")


def triage_change(status: str, action: str, payload: dict) -> dict:
    """The fields a triage action changes, checked against the incident's status."""
    if action not in ACTIONS:
        raise TriageRefused("That is not a triage action I know.")
    if status == "resolved" and action != "note":
        raise TriageRefused("This incident is already resolved; you can still add a note.")
    if action == "acknowledge":
        if status != "new":
            raise TriageRefused("This incident has already been acknowledged.")
        return {"status": "acknowledged"}
    if action == "assign":
        return {"status": "in_progress"}
    if action == "severity":
        severity = payload.get("severity")
        if severity not in SEVERITIES:
            raise TriageRefused("Please choose a severity: low, medium or high.")
        return {"severity": severity}
    if action == "note":
        note = (payload.get("note") or "").strip() if isinstance(payload.get("note"), str) else ""
        if not note:
            raise TriageRefused("Please write the note first.")
        if len(note) > LIMITS["note"]:
            raise TriageRefused(f"Please keep notes under {LIMITS['note']} characters.")
        return {"note": note}
    outcome = (payload.get("outcome") or "").strip() if isinstance(payload.get("outcome"), str) else ""
    if not outcome:
        raise TriageRefused("Please describe the outcome before resolving.")
    if len(outcome) > LIMITS["outcome"]:
        raise TriageRefused(f"Please keep the outcome under {LIMITS['outcome']} characters.")
    return {"status": "resolved", "outcome": outcome}
