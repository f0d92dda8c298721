"""Tool approval requests (policy 7): what a request must hold, what follows from it, and who may decide it."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Iterable
from urllib.parse import urlsplit

from domain.forms import text as _text
from domain.records import ApprovalRequest, RequestForm

DATA_CLASSIFICATIONS = {
    "public": "Public information",
    "official": "OFFICIAL",
    "official_sensitive": "OFFICIAL-SENSITIVE",
    "personal": "Personal data",
    "special_category": "Special category personal data",
}
CATEGORIES = {
    "public": "Public tool",
    "enterprise": "Feature of an enterprise platform",
    "internal": "Internal tool",
    "procured": "Procured",
    "open_source": "Open source deployed internally",
}
# The register's own wording for each request category (domain.tools.CATEGORIES values).
REGISTER_CATEGORIES = {
    "public": "public tool",
    "enterprise": "feature of an enterprise platform",
    "internal": "internal tool",
    "procured": "procured",
    "open_source": "open source deployed internally",
}
STATUSES = {
    "pending": "Pending",
    "approved": "Approved",
    "approved_with_conditions": "Approved with conditions",
    "rejected": "Rejected",
}
FINAL_STATUSES = ("approved", "approved_with_conditions", "rejected")
LIMITS = {
    "tool_name": 200, "purpose": 2000, "data_description": 2000, "expected_output": 2000, "output_use": 2000,
    "vendor_url": 500, "note": 2000, "answer": 2000,
}
REQUIRED_TEXT = {
    "tool_name": "Please name the tool.",
    "purpose": "Please say what you want to use it for.",
    "data_description": "Please describe the data you would put into it (write 'none' if there is none).",
    "expected_output": "Please say what you expect it to produce.",
    "output_use": "Please say how the output will be used or shared.",
}
REVIEW_MONTHS = 12


def validate_request(values: dict) -> tuple[RequestForm | None, dict[str, str]]:
    """The cleaned request, or the problems in plain words keyed by the input they concern."""
    errors: dict[str, str] = {}
    texts: dict[str, str] = {}
    for name, missing in REQUIRED_TEXT.items():
        text = _text(values, name)
        if not text:
            errors[name] = missing
        elif len(text) > LIMITS[name]:
            errors[name] = f"Please keep this under {LIMITS[name]} characters (it is {len(text)})."
        texts[name] = text
    for name, allowed in (("data_classification", DATA_CLASSIFICATIONS), ("category", CATEGORIES)):
        value = _text(values, name)
        if not value:
            errors[name] = "Please choose one."
        elif value not in allowed:
            errors[name] = "Please choose one of the options listed."
        texts[name] = value
    url = _text(values, "vendor_url")
    if url:
        if len(url) > LIMITS["vendor_url"]:
            errors["vendor_url"] = f"Please keep the web address under {LIMITS['vendor_url']} characters."
        elif not _looks_like_web_address(url):
            errors["vendor_url"] = "Please give a web address starting with https:// (or leave it empty)."
    if errors:
        return None, errors
    return RequestForm(vendor_url=url or None, **texts), {}


def _looks_like_web_address(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and "." in parts.netloc and " " not in url


@dataclass(frozen=True)
class Consequence:
    title: str
    text: str


def consequences(data_classification: str, category: str) -> list[Consequence]:
    """What the policy asks for before this tool may be used this way."""
    found = []
    if data_classification in ("personal", "special_category"):
        found.append(Consequence("DPIA required", "Personal data would be processed: a Data Protection Impact Assessment "
                                 "must be completed and approved first, with the DPO's advice (policy 10.3, 10.4)."))
    if data_classification == "official_sensitive":
        found.append(Consequence("Security review", "OFFICIAL-SENSITIVE information: the IT security team should confirm "
                                 "where the data is processed and stored (policy 11)."))
    found.append(Consequence("EqIA may be required", "If the output could affect residents or staff with protected "
                             "characteristics, an Equality Impact Assessment is needed first (policy 8.2)."))
    if category == "procured":
        found.append(Consequence("Procurement route", "A procured tool must be bought through the procurement team under "
                                 "the contract procedure rules, with AI and data protection clauses (policy 7.4)."))
    if category == "public":
        found.append(Consequence("Public tool", "Only public information may be entered into a public tool unless the "
                                 "approval says otherwise (policy 7.2)."))
    return found


class DecisionRefused(ValueError):
    """The decision cannot be made; the message says why in plain words."""


ACTIONS = {"approve": "approved", "approve_conditions": "approved_with_conditions", "reject": "rejected", "ask": None}
NEEDS_NOTE = {
    "approve_conditions": "Please write the conditions of approval.",
    "reject": "Please give the reason for rejecting the request.",
    "ask": "Please write the question for the requester.",
}


@dataclass(frozen=True)
class Decision:
    action: str
    status: str | None  # None: the request stays pending (a question was asked)
    note: str | None


def may_decide(actor_id: str, requester_id: str, is_approver: bool) -> str | None:
    """None when the actor may act on the request; otherwise why not, in plain words."""
    if not is_approver:
        return "You are not an approver for AI tool requests."
    if actor_id == requester_id:
        return "You cannot decide your own request."
    return None


def decide(status: str, action: str, note: object) -> Decision:
    """Check an approver's action against the request's state."""
    if action not in ACTIONS:
        raise DecisionRefused("That is not an action I know for tool requests.")
    if status != "pending":
        raise DecisionRefused("This request has already been decided.")
    text = note.strip() if isinstance(note, str) else ""
    if action in NEEDS_NOTE and not text:
        raise DecisionRefused(NEEDS_NOTE[action])
    if len(text) > LIMITS["note"]:
        raise DecisionRefused(f"Please keep this under {LIMITS['note']} characters.")
    return Decision(action, ACTIONS[action], text or None)


def waiting_oldest_first(requests: Iterable[ApprovalRequest]) -> list[ApprovalRequest]:
    """The requests not decided yet (waiting for a decision, or for the requester's answer to the approvers'
    question), the longest waiting first."""
    return sorted((r for r in requests if r.status == "pending"), key=lambda r: (r.requested_at, r.reference))


def review_due(decided_on: date, months: int = REVIEW_MONTHS) -> date:
    """The date of the next review; 29 February falls back to the 28th."""
    month_index = decided_on.month - 1 + months
    year, month = decided_on.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(decided_on.day, calendar.monthrange(year, month)[1]))


def validate_answer(values: dict) -> tuple[str | None, str | None]:
    answer = _text(values, "answer")
    if not answer:
        return None, "Please write your answer."
    if len(answer) > LIMITS["answer"]:
        return None, f"Please keep your answer under {LIMITS['answer']} characters (it is {len(answer)})."
    return answer, None
