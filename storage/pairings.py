"""Questions paired with the passage that answers them, kept per policy version.

A pairing is made by a governance member (on an escalated question's card, or `policy-bot qa teach`)
or imported from CSV. The search treats it as another way of asking for that passage. Publishing a
new version carries each pairing over when its passage's text is unchanged, and holds it for review
when the passage changed or went away (domain/pairings.py): never dropped, never applied to words
nobody checked.

Every bot process caches the index built with the current version's pairings. `generation()` is a
cheap fingerprint of the active set (how many, and the sum of their ids: any teach or forget
changes it), which each process compares every few seconds, so a pairing taught on one instance is
used by the others within that time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Sequence

from sqlalchemy import delete, func, select

from domain.pairings import (
    CarryOver, PairingRefused, PolicyPassage, Teaching, carry_over, locate, passages_of, text_hash,
)
from domain.policy_parse import PolicyDocument, parse_policy
from domain.policy_text import Placeholders
from domain.records import PairingRecord, PolicyVersion
from domain.redact import redact
from storage.audit import AuditTrail
from storage.db import Database
from storage.models import PairingRow, PolicyVersionRow

SOURCES = ("teach", "import", "governance")
MAX_QUESTION_CHARS = 2000


def _record(row: PairingRow) -> PairingRecord:
    return PairingRecord(
        id=row.id, policy_version_id=row.policy_version_id, question=row.question, redacted=row.redacted,
        section=row.section, passage_index=row.passage_index, passage_hash=row.passage_hash, status=row.status,
        source=row.source, created_by=row.created_by, created_at=row.created_at, held_reason=row.held_reason,
        carried_from=row.carried_from,
    )


class RowsRefused(PairingRefused):
    """Pairings that cannot be made, each with its row number (from 1) and the reason, in plain words."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(f"row {n}: {reason}" for n, reason in problems))
        self.problems = problems


UNIQUE_KEY = ("policy_version_id", "status", "question_hash", "passage_hash")


def _values(version_id: int, question: str, redacted: bool, section: str, index: int, passage_hash: str, source: str,
            actor: str, *, carried_from: int | None = None, held_reason: str | None = None) -> dict:
    return dict(policy_version_id=version_id, question=question, question_hash=text_hash(question), redacted=redacted,
                section=section, passage_index=index, passage_hash=passage_hash,
                status="held" if held_reason else "active", held_reason=held_reason, source=source,
                carried_from=carried_from, created_by=actor[:200], created_at=datetime.now(timezone.utc))


def _check_question(question: str) -> str:
    question = " ".join((question or "").split())
    if not question:
        raise PairingRefused("give the question to pair with the passage")
    if len(question) > MAX_QUESTION_CHARS:
        raise PairingRefused(f"the question is {len(question)} characters long; at most {MAX_QUESTION_CHARS}")
    return question


@dataclass(frozen=True)
class CarriedOver:
    """What publishing did with the previous version's pairings."""

    carried: int
    held: int


@lru_cache(maxsize=4)
def _parsed(text: str, placeholders: Placeholders) -> PolicyDocument:
    return parse_policy(text, placeholders)


class PairingRepository:
    def __init__(self, db: Database, audit: AuditTrail, placeholders: Placeholders | None = None) -> None:
        """`placeholders`: the organisation's names filled into the policy text, as the bot's own index fills
        them (bot/library.py), so a passage's text and hash read the same here as there."""
        self._db = db
        self._audit = audit
        self._placeholders = placeholders or Placeholders("the organisation", "the governance authority", "")
        self.changes = 0  # taught or forgotten through this object: this process's caches rebuild at once

    async def _document(self, session, policy_version_id: int) -> PolicyDocument:
        text = (await session.execute(select(PolicyVersionRow.text).where(PolicyVersionRow.id == policy_version_id))).scalar()
        if text is None:
            raise PairingRefused(f"there is no policy version {policy_version_id}")
        return _parsed(text, self._placeholders)

    async def teach(self, *, question: str, policy_version_id: int, section: str, passage_index: int | None,
                    actor: str, source: str, passage_text: str | None = None,
                    reattach: int | None = None) -> PairingRecord:
        """Pair a question with a passage of a version: numbered (`passage_index`, from 1), or the one whose
        text was shown (`passage_text`), or the one in the section sharing most words with the question.

        The question is stored redacted. Teaching the same question for the same passage again changes
        nothing (a retried click). A held pairing with this question (or `reattach`, its id) is replaced."""
        wanted = Teaching(question, section, passage_index, passage_text)
        async with self._db.sessions.begin() as session:
            document = await self._document(session, policy_version_id)
            record, _ = await self._teach_in(session, document, policy_version_id, wanted, actor, source, reattach)
            return record

    async def teach_all(self, teachings: Sequence[Teaching], *, policy_version_id: int, actor: str,
                        source: str = "import", check_only: bool = False) -> list[tuple[PairingRecord, bool]]:
        """Several pairings in one transaction: all of them, or, if any cannot be made, none. Raises
        `RowsRefused` naming every row that cannot be made; else returns (pairing, whether it is new) per row
        (`check_only`: nothing, and nothing is written)."""
        async with self._db.sessions.begin() as session:
            document = await self._document(session, policy_version_id)
            problems = []
            for number, wanted in enumerate(teachings, start=1):
                try:
                    _check_question(wanted.question)
                    locate(document, wanted.section, wanted.passage_index, wanted.question, wanted.passage_text)
                except PairingRefused as exc:
                    problems.append((number, str(exc)))
            if problems:
                raise RowsRefused(problems)
            if check_only:
                return []
            return [await self._teach_in(session, document, policy_version_id, wanted, actor, source, None)
                    for wanted in teachings]

    async def _teach_in(self, session, document: PolicyDocument, version_id: int, wanted: Teaching, actor: str,
                        source: str, reattach: int | None) -> tuple[PairingRecord, bool]:
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}")
        redaction = redact(_check_question(wanted.question))
        passage = locate(document, wanted.section, wanted.passage_index, redaction.text, wanted.passage_text)
        values = _values(version_id, redaction.text, redaction.found, passage.section, passage.index, passage.hash,
                         source, actor)
        existing = await self._same(session, values)
        if existing is not None:
            return existing, False
        replaced = await self._release_held(session, version_id, redaction.text, reattach)
        # Two clicks at once, on one instance or two: the unique key lets one insert through.
        inserted = (await session.execute(self._db.insert_ignore(PairingRow.__table__, values, list(UNIQUE_KEY))
                                          .returning(PairingRow.id))).scalar()
        if inserted is None:
            return await self._same(session, values), False
        await self._audit.append_in(session, actor, "qa.taught", f"pairing:{inserted}", {
            "version": version_id, "section": passage.section, "passage": passage.index, "source": source,
            "replaces_held": replaced}, private={"question": redaction.text})
        self.changes += 1
        return _record(await session.get(PairingRow, inserted)), True

    @staticmethod
    async def _same(session, values: dict) -> PairingRecord | None:
        row = (await session.execute(select(PairingRow).where(
            *(getattr(PairingRow, name) == values[name] for name in UNIQUE_KEY)))).scalar()
        return _record(row) if row is not None else None

    async def held_passage(self, pairing: PairingRecord) -> PolicyPassage | None:
        """What a held pairing's passage said in the version it was last active in (None if forgotten since)."""
        record: PairingRecord | None = pairing
        while record is not None and not record.active and record.carried_from is not None:
            record = await self.get(record.carried_from)
        return await self.passage(record) if record is not None and record.active else None

    async def passage(self, pairing: PairingRecord) -> PolicyPassage | None:
        """The passage a pairing names, as its version reads (None if that version no longer has it)."""
        async with self._db.sessions() as session:
            document = await self._document(session, pairing.policy_version_id)
        passages = passages_of(document, pairing.section)
        same = next((p for p in passages if p.hash == pairing.passage_hash), None)
        if same is not None or not pairing.active or not 0 < pairing.passage_index <= len(passages):
            return same
        return passages[pairing.passage_index - 1]

    async def _release_held(self, session, version_id: int, question: str, reattach: int | None) -> list[int]:
        """The held pairings this teaching settles: the one named, and any held for the same question."""
        if reattach is not None:
            held = await session.get(PairingRow, reattach)
            if held is None or held.status != "held" or held.policy_version_id != version_id:
                raise PairingRefused(f"there is no held pairing {reattach} for the current policy version; "
                                     "`policy-bot qa list --held` shows them")
        condition = PairingRow.question == question
        if reattach is not None:
            condition = condition | (PairingRow.id == reattach)
        rows = list((await session.execute(select(PairingRow).where(
            PairingRow.policy_version_id == version_id, PairingRow.status == "held", condition))).scalars())
        for row in rows:
            await session.delete(row)
        return [row.id for row in rows]

    async def list(self, policy_version_id: int, *, held: bool = False) -> list[PairingRecord]:
        """The version's active pairings, or those held for review, oldest first."""
        async with self._db.sessions() as session:
            rows = await session.execute(select(PairingRow).where(
                PairingRow.policy_version_id == policy_version_id, PairingRow.status == ("held" if held else "active"))
                .order_by(PairingRow.id))
            return [_record(row) for row in rows.scalars()]

    async def get(self, pairing_id: int) -> PairingRecord | None:
        async with self._db.sessions() as session:
            row = await session.get(PairingRow, pairing_id)
            return _record(row) if row else None

    async def forget(self, pairing_id: int, *, actor: str) -> PairingRecord | None:
        """Delete a pairing (active or held); None if there is no such pairing."""
        async with self._db.sessions.begin() as session:
            row = await session.get(PairingRow, pairing_id)
            if row is None:
                return None
            record = _record(row)
            await session.execute(delete(PairingRow).where(PairingRow.id == pairing_id))
            await self._audit.append_in(session, actor, "qa.forgotten", f"pairing:{pairing_id}", {
                "version": record.policy_version_id, "section": record.section, "status": record.status})
            self.changes += 1
            return record

    async def generation(self, policy_version_id: int) -> tuple[int, int]:
        """A fingerprint of the version's active pairings that any teach or forget changes (one indexed read)."""
        async with self._db.sessions() as session:
            count, total = (await session.execute(select(func.count(PairingRow.id), func.coalesce(func.sum(PairingRow.id), 0))
                                                  .where(PairingRow.policy_version_id == policy_version_id,
                                                         PairingRow.status == "active"))).one()
            return int(count), int(total)

    async def carry_over_in(self, session, version: PolicyVersion, *, actor: str) -> CarriedOver:
        """Inside the publishing transaction: the previous version's pairings, carried to `version` where their
        passage is unchanged and held for review where it changed or went away. Held ones stay held."""
        previous = (await session.execute(select(func.max(PolicyVersionRow.id))
                                          .where(PolicyVersionRow.id < version.id))).scalar()
        if previous is None:
            return CarriedOver(0, 0)
        rows = (await session.execute(select(PairingRow).where(PairingRow.policy_version_id == previous)
                                      .order_by(PairingRow.id))).scalars()
        old = [_record(row) for row in rows]
        outcome: CarryOver = carry_over([p for p in old if p.active], _parsed(version.text, self._placeholders))
        new = [_values(version.id, p.question, p.redacted, passage.section, passage.index, passage.hash, p.source,
                       p.created_by, carried_from=p.id) for p, passage in outcome.carried]
        held = [(p, p.held_reason or "changed") for p in old if not p.active] + outcome.held
        new += [_values(version.id, p.question, p.redacted, p.section, p.passage_index, p.passage_hash, p.source,
                        p.created_by, carried_from=p.id, held_reason=reason) for p, reason in held]
        kept: dict[tuple, dict] = {}
        for values in new:  # the same pairing twice (one question, two identical passages): once
            kept.setdefault(tuple(values[name] for name in UNIQUE_KEY), values)
        session.add_all(PairingRow(**values) for values in kept.values())
        if old:
            await self._audit.append_in(session, actor, "qa.carried_over", f"policy:{version.label}",
                                        {"from_version": previous, "carried": len(outcome.carried), "held": len(held)})
        self.changes += 1
        return CarriedOver(len(outcome.carried), len(held))
