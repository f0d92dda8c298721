"""Questions passed to the governance team: what a member's response may be, and what staff's feedback says.

Pure rules, like domain/approvals.decide(): they read what a card or Teams sent and raise a refusal in
plain words; the dialog resolves a chosen passage against the current policy and stores the result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

ACTIONS = ("passage", "answer", "not_covered", "not_policy")
STATUSES = {
    "waiting": "Waiting for the governance team",
    "passage": "Answered with a passage of the policy",
    "answer": "Answered in writing",
    "not_covered": "Not covered by the policy: flagged for the next review",
    "not_policy": "Not a policy question",
}
REASONS = {"asked": "asked for a person", "not_helpful": "said the answer was not helpful"}
LIMITS = {"answer": 2000, "pointer": 300, "search": 200, "comment": 1000}
SECTION_NUMBER = re.compile(r"^\d{1,3}(\.\d{1,3}){0,3}$")


class ResponseRefused(ValueError):
    """The response cannot be recorded; the message says why in plain words."""


@dataclass(frozen=True)
class Reply:
    """A governance member's response, as read from the card (the passage still to be found)."""

    action: str
    text: str = ""  # the written answer, or the pointer for "not a policy question"
    offered: int | None = None  # which of the offered passages (0-based)
    search: str = ""  # or: a section number, or a few words to search the current policy for


def _text(payload: dict, name: str) -> str:
    value = payload.get(name)
    return " ".join(value.split()) if isinstance(value, str) else ""


def _limited(text: str, name: str, what: str) -> str:
    if len(text) > LIMITS[name]:
        raise ResponseRefused(f"Please keep the {what} under {LIMITS[name]} characters.")
    return text


def read_reply(action: str, payload: dict, offered: int) -> Reply:
    """What the member chose on the card, checked; `offered` is how many passages the bot offered."""
    if action not in ACTIONS:
        raise ResponseRefused("That is not a response I know.")
    if action == "answer":
        text = (payload.get("answer") or "").strip() if isinstance(payload.get("answer"), str) else ""
        if not text:
            raise ResponseRefused("Please write the answer first.")
        return Reply("answer", text=_limited(text, "answer", "answer"))
    if action == "not_policy":
        return Reply("not_policy", text=_limited(_text(payload, "pointer"), "pointer", "pointer"))
    if action == "not_covered":
        return Reply("not_covered")
    search = _limited(_text(payload, "search"), "search", "section or search words")
    if search:
        return Reply("passage", search=search)
    choice = _text(payload, "passage")
    if choice.isdigit() and 1 <= int(choice) <= offered:
        return Reply("passage", offered=int(choice) - 1)
    raise ResponseRefused("Please choose one of the passages offered, or give a section number or a few words to search for.")


def clean_comment(value: object) -> str | None:
    """What staff wrote when passing a question on (kept only as long as the question)."""
    text = value.strip() if isinstance(value, str) else ""
    return text[:LIMITS["comment"]] or None


def is_yes(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes", "y"))


@dataclass(frozen=True)
class Feedback:
    """Teams' own feedback control (message/submitAction, actionName "feedback")."""

    helpful: bool
    comment: str | None


def read_feedback(value: dict) -> Feedback | None:
    """None when the invoke is not a like or dislike. The comment arrives as a JSON string ({"feedbackText": …})."""
    if value.get("actionName") != "feedback" or not isinstance(value.get("actionValue"), dict):
        return None
    action = value["actionValue"]
    reaction = action.get("reaction")
    if reaction not in ("like", "dislike"):
        return None
    comment = action.get("feedback")
    if isinstance(comment, str):
        try:
            parsed = json.loads(comment)
        except ValueError:
            parsed = comment
        comment = parsed.get("feedbackText") if isinstance(parsed, dict) else parsed
    return Feedback(reaction == "like", clean_comment(comment))
