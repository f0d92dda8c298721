"""How audit entries are chained and checked: pure functions, no database.

Each entry's hash covers the hash before it, so changing any entry breaks every link after it. The
head (a count and the newest hash, kept apart from the entries) shows entries deleted from the end.

Two attacks need more than a chain:
- Whoever can write to the database can change an entry and re-hash everything after it. With
  AUDIT_KEY set, each hash is an HMAC under a key the database never holds, so the chain can't be
  rebuilt without it. Without a key, an anchor (count and newest hash) kept elsewhere still shows it.
- Free text under retention (notes, outcomes, reasons) must go when its record is purged, without
  breaking the chain. So an entry keeps it beside the chained fields, and the chain covers a salted
  digest of it (a commitment): purging removes the text and its salt, and the digest reveals nothing.

Scheme 1 entries were written before migration 0005: plain SHA-256 over everything, free text in the
detail. They still verify as they were. When their record is purged, the free text is cut from their
detail, and a receipt entry, itself chained, records a digest of what is left ("audit.scrubbed").
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from domain.records import AuditEntry

GENESIS = "0" * 64
LEGACY, COMMITTED = 1, 2
SCRUB_ACTION = "audit.scrubbed"
# Where scheme 1 entries kept free text: triage notes and outcomes, approvers' notes, requested tool names.
LEGACY_FREE_TEXT = ("note", "outcome", "tool")


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def _utc_text(at: datetime) -> str:
    at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).isoformat()


def legacy_hash(prev_hash: str, at: datetime, actor: str, action: str, subject: str, detail: dict) -> str:
    return hashlib.sha256(_canonical([prev_hash, _utc_text(at), actor, action, subject, detail])).hexdigest()


def chain_hash(prev_hash: str, at: datetime, actor: str, action: str, subject: str, detail: dict,
               private_digest: str | None, *, key: bytes | None) -> str:
    message = _canonical([COMMITTED, prev_hash, _utc_text(at), actor, action, subject, detail, private_digest])
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def private_digest(private: dict) -> str:
    """The commitment to an entry's free text: it includes a random salt, so short text can't be guessed from it."""
    return hashlib.sha256(_canonical(private)).hexdigest()


def scrub_digest(entry: AuditEntry) -> str:
    """What a purge's receipt records about an entry it cleared: everything the entry still holds."""
    return hashlib.sha256(_canonical([
        entry.id, entry.hash, entry.prev_hash, _utc_text(entry.at), entry.actor, entry.action, entry.subject,
        entry.detail, entry.private_digest, entry.scheme, entry.keyed,
    ])).hexdigest()


def entry_hash(entry: AuditEntry, key: bytes | None) -> str:
    """The hash an entry should carry, given the key it was signed with (if any)."""
    if entry.scheme == LEGACY:
        return legacy_hash(entry.prev_hash, entry.at, entry.actor, entry.action, entry.subject, entry.detail)
    return chain_hash(entry.prev_hash, entry.at, entry.actor, entry.action, entry.subject, entry.detail,
                      entry.private_digest, key=key if entry.keyed else None)


@dataclass(frozen=True)
class Head:
    count: int
    hash: str


@dataclass(frozen=True)
class Anchor:
    """A head kept elsewhere: the chain must still hold this hash at this position."""

    count: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> "Anchor":
        count, _, digest = text.strip().partition(":")
        if not count.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("an anchor looks like COUNT:HASH, as `policy-bot audit anchor` prints it")
        return cls(int(count), digest)


@dataclass(frozen=True)
class ChainProblem:
    message: str
    entry: AuditEntry | None = None

    @property
    def id(self) -> int | None:
        return self.entry.id if self.entry else None


def check_chain(entries: list[AuditEntry], head: Head, *, key: bytes | None,
                anchor: Anchor | None = None) -> ChainProblem | None:
    """The first thing about the trail that does not check out; None when everything does."""
    receipts: dict[str, str] = {}
    for entry in entries:
        if entry.action == SCRUB_ACTION:
            receipts.update(entry.detail.get("entries") or {})
    prev, committed, keyed = GENESIS, False, False
    for position, entry in enumerate(entries, start=1):
        problem = _check_entry(entry, prev, receipts, key, committed, keyed)
        if problem:
            return ChainProblem(problem, entry)
        committed, keyed = committed or entry.scheme == COMMITTED, keyed or entry.keyed
        if anchor and position == anchor.count and entry.hash != anchor.hash:
            return ChainProblem(f"entry {position} does not match the anchor: the trail has been rebuilt since", entry)
        prev = entry.hash
    if anchor and len(entries) < anchor.count:
        return ChainProblem(f"the anchor is for {anchor.count} entries but the trail holds {len(entries)}")
    if len(entries) != head.count:
        how = "entries have been deleted" if len(entries) < head.count else "entries were added by something else"
        return ChainProblem(f"the trail holds {len(entries)} entries but {head.count} were recorded: {how}")
    if head.hash != prev:
        return ChainProblem("the newest entry is not the one recorded as newest: entries have been replaced")
    if key is not None and entries and not entries[-1].keyed:
        return ChainProblem("the newest entry is not signed with AUDIT_KEY: the trail was rebuilt without the key, "
                            "or nothing has been recorded since AUDIT_KEY was set (`policy-bot audit anchor` "
                            "records an entry)", entries[-1])
    return None


def _check_entry(entry: AuditEntry, prev: str, receipts: dict, key: bytes | None, committed: bool,
                 keyed: bool) -> str | None:
    if entry.prev_hash != prev:
        return "its link to the entry before it has been changed"
    if entry.scrubbed_at is not None and receipts.get(str(entry.id)) != scrub_digest(entry):
        return "its text was removed, or it was changed afterwards, without a purge recording it"
    if entry.scheme == LEGACY:
        if committed:
            return "it claims the old format, but follows entries in the new one"
        if entry.scrubbed_at is None and entry.hash != entry_hash(entry, None):
            return "its content has been changed"
        return None
    if entry.private is not None and private_digest(entry.private) != entry.private_digest:
        return "its text has been changed"
    if entry.private is None and entry.private_digest is not None and entry.scrubbed_at is None:
        return "its text was removed without a purge recording it"
    if entry.keyed and key is None:
        return "it is signed with AUDIT_KEY: set AUDIT_KEY to check it"
    if keyed and not entry.keyed:
        return "it is not signed with AUDIT_KEY, although entries before it are"
    if entry.hash != entry_hash(entry, key):
        return "its content has been changed, or AUDIT_KEY is not the key it was signed with" if entry.keyed \
            else "its content has been changed"
    return None
