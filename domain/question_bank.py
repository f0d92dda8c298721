"""The council's own question bank, run against a policy: how often the right section comes first, or in
the first three, and how often a question the policy does not cover is rightly refused.

A bank row is a question and the section(s) any of which answers it (a passage from a subsection of
one counts), or "not covered". Policy 11.5 asks for scenario testing before go-live; this is it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

from domain.policy_search import Hit, PolicyIndex, shown_hits
from domain.redact import redact

NOT_COVERED = ("not covered", "not-covered", "none", "n/a")
_SEPARATORS = re.compile(r"\s*[;,|]\s*|\s+or\s+")


class BankRowRefused(ValueError):
    pass


def expected_sections(cell: str) -> tuple[str, ...]:
    """'7.2; 10.3' -> ('7.2', '10.3'); 'not covered' -> (). Refuses an empty cell in plain words."""
    cell = " ".join(cell.split())
    if cell.lower().rstrip(".") in NOT_COVERED:
        return ()
    sections = tuple(s.rstrip(".") for s in _SEPARATORS.split(cell) if s)
    if not sections:
        raise BankRowRefused("no expected section: give the section(s) that answer it, e.g. 7.2, "
                             "or \u201cnot covered\u201d if the policy does not answer it")
    return sections


@dataclass(frozen=True)
class BankQuestion:
    row: int  # as a spreadsheet numbers it
    question: str
    expected: tuple[str, ...]  # empty: the policy does not cover it

    @property
    def covered(self) -> bool:
        return bool(self.expected)


def answers(hit: Hit, expected: Sequence[str]) -> bool:
    """The hit is from an expected section or one of its subsections (7.2.1 answers 7.2)."""
    name = hit.section or hit.title
    return any(name == e or name.startswith(f"{e}.") or (not hit.section and hit.title.casefold() == e.casefold())
               for e in expected)


@dataclass(frozen=True)
class BankOutcome:
    item: BankQuestion
    answered: bool
    shown: tuple[Hit, ...]  # what the bot would quote (nothing when it refuses)

    @property
    def top1(self) -> bool:
        return self.item.covered and bool(self.shown) and answers(self.shown[0], self.item.expected)

    @property
    def top3(self) -> bool:
        return self.item.covered and any(answers(h, self.item.expected) for h in self.shown[:3])

    @property
    def refused(self) -> bool:
        return not self.answered

    @property
    def missed(self) -> bool:
        """Covered but not in the first three; or not covered and answered anyway."""
        return not self.top3 if self.item.covered else self.answered

    def shown_instead(self) -> str:
        if not self.shown:
            return "nothing (the bot said the policy does not cover it)"
        return "; ".join(f"{h.section} {h.title}" if h.section else h.title for h in self.shown[:3])


@dataclass(frozen=True)
class BankScore:
    outcomes: list[BankOutcome] = field(default_factory=list)

    @property
    def covered(self) -> int:
        return sum(o.item.covered for o in self.outcomes)

    @property
    def not_covered(self) -> int:
        return len(self.outcomes) - self.covered

    @property
    def top1(self) -> float:
        return sum(o.top1 for o in self.outcomes) / self.covered if self.covered else 0.0

    @property
    def top3(self) -> float:
        return sum(o.top3 for o in self.outcomes) / self.covered if self.covered else 0.0

    @property
    def refusals(self) -> float:
        """Share of the not-covered questions the bot rightly refused."""
        refused = sum(o.refused for o in self.outcomes if not o.item.covered)
        return refused / self.not_covered if self.not_covered else 0.0

    @property
    def misses(self) -> list[BankOutcome]:
        return [o for o in self.outcomes if o.missed]


def run_bank(index: PolicyIndex, items: Sequence[BankQuestion], progress: Callable[[], None] | None = None) -> BankScore:
    """Each question searched as the bot searches it, scored on the passages the bot would quote."""
    outcomes = []
    for item in items:
        result = index.search(redact(item.question).text)  # as the bot searches what staff type
        outcomes.append(BankOutcome(item, result.answered, tuple(shown_hits(result))))
        if progress is not None:
            progress()
    return BankScore(outcomes)
