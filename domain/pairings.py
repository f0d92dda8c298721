"""Which passage a taught question belongs to, and whether it still exists in a new policy version.

A passage here is one paragraph or list item of a numbered section, counted from 1 in the order the
section shows them: what a person reading the policy would call "the second paragraph of 7.2". It is
named by the hash of its text, so a pairing follows an unchanged passage into a later version even
when the section was renumbered, and is held for review when the words changed or went away.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

from domain.policy_parse import PolicyDocument, Section
from domain.records import PairingRecord
from domain.text_terms import stems


class PairingRefused(ValueError):
    """A pairing that cannot be made, said in plain words."""


@dataclass(frozen=True)
class Teaching:
    """One pairing asked for: the question, and the section with the passage's number, or its shown text."""

    question: str
    section: str
    passage_index: int | None = None
    passage_text: str | None = None


@dataclass(frozen=True)
class PolicyPassage:
    section: str
    title: str
    index: int  # from 1, within the section
    text: str
    hash: str


def text_hash(text: str) -> str:
    """The passage's words, spacing ignored: a changed word is a changed passage, a reflowed line is not."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def section_key(section: Section) -> str:
    """How a section is named: its number, or its title where the document numbers none."""
    return section.number or section.title


def find_section(document: PolicyDocument, key: str) -> Section | None:
    key = key.strip()
    return document.section(key) or next(
        (s for s in document.sections if not s.number and s.title.casefold() == key.casefold()), None)


def passages_of(document: PolicyDocument, section: str) -> list[PolicyPassage]:
    found = find_section(document, section)
    if found is None:
        return []
    return [PolicyPassage(section_key(found), found.title, position, block.text, text_hash(block.text))
            for position, block in enumerate(found.blocks, start=1)]


def _overlap(question: str, text: str) -> int:
    return len(set(stems(question)) & set(stems(text)))


def locate(document: PolicyDocument, section: str, passage_index: int | None, question: str,
           passage_text: str | None = None) -> PolicyPassage:
    """The passage a question is paired with: the one numbered, else the one whose text was shown (quoted,
    perhaps shortened, with its label), else the one sharing most words with the question."""
    section = section.strip()
    passages = passages_of(document, section)
    if find_section(document, section) is None:
        raise PairingRefused(f"the current policy has no section {section}")
    if not passages:
        raise PairingRefused(f"section {section} has no text of its own to pair a question with; "
                             "give one of its numbered subsections instead")
    if passage_index is not None:
        if not 1 <= passage_index <= len(passages):
            raise PairingRefused(f"section {section} has {len(passages)} passage(s); "
                                 f"choose a passage from 1 to {len(passages)}")
        return passages[passage_index - 1]
    if passage_text:
        shown = " ".join(passage_text.split())
        quoted = [p for p in passages if " ".join(p.text.split())[:40] in shown]
        if quoted:
            return quoted[0]
    return max(passages, key=lambda p: (_overlap(question, p.text), -p.index))


@dataclass(frozen=True)
class CarryOver:
    """What publishing a new version does with the old version's pairings."""

    carried: list[tuple[PairingRecord, PolicyPassage]]
    held: list[tuple[PairingRecord, str]]  # reason: changed (its section is still there) or gone


def carry_over(pairings: Sequence[PairingRecord], document: PolicyDocument) -> CarryOver:
    by_hash: dict[str, list[PolicyPassage]] = {}
    for section in document.sections:
        for passage in passages_of(document, section_key(section)):
            by_hash.setdefault(passage.hash, []).append(passage)
    carried, held = [], []
    for pairing in pairings:
        same = by_hash.get(pairing.passage_hash, [])
        if same:
            # The same words in several places: the one under the old section number, else the first.
            carried.append((pairing, next((p for p in same if p.section == pairing.section), same[0])))
        else:
            held.append((pairing, "changed" if find_section(document, pairing.section) else "gone"))
    return CarryOver(carried, held)
