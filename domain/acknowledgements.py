"""Policy acknowledgement (policy 17): the key rules to show, and what changed between versions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from domain.policy_parse import PolicyDocument

KEY_RULES = (
    "Use only approved AI tools; anything not on the register is presumed unauthorised.",
    "No personal, sensitive or confidential data in AI tools without authorisation and a completed DPIA.",
    "A person checks every AI output before it is relied on, published or sent.",
    "Disclose AI use where the policy requires it.",
    "Report AI concerns, incidents and breaches at once to the governance authority and IT security.",
)


@dataclass(frozen=True)
class SectionChange:
    kind: str  # added, removed, changed
    number: str
    title: str


def _fingerprints(document: PolicyDocument) -> dict[str, tuple[str, str]]:
    return {
        s.number: (s.title, hashlib.sha256(f"{s.title}\n{s.full_text()}".encode()).hexdigest())
        for s in document.sections if s.number
    }


def _order(number: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in number.split("."))


def changes_between(old: PolicyDocument, new: PolicyDocument) -> list[SectionChange]:
    """Sections added, removed and changed (by number and title) from one version to the next."""
    before, after = _fingerprints(old), _fingerprints(new)
    found = [SectionChange("added", n, after[n][0]) for n in after if n not in before]
    found += [SectionChange("removed", n, before[n][0]) for n in before if n not in after]
    found += [SectionChange("changed", n, after[n][0]) for n in after if n in before and after[n][1] != before[n][1]]
    return sorted(found, key=lambda c: _order(c.number))
