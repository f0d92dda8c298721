"""The outbox: proactive messages stored with the change that causes them, delivered at least once.

Each entry has an idempotency key per (event, recipient), so writing the same event twice
queues one message. Workers claim due entries atomically (FOR UPDATE SKIP LOCKED on
PostgreSQL; SQLite has a single writer), so two processes never send the same entry at once.
A claim expires: an entry whose sender died is picked up again after a restart.

An outbox belongs to one world: the service's (Teams) or the terminal chat's (conversations whose service
URL is LOCAL_CHAT_URL). Each claims and retries only its own entries, so the service never sends to the
terminal chat and the chat never "delivers" a Teams message to the screen.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import asdict
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from storage.db import Database
from storage.models import OutboxRow
from storage.times import utc_now
from domain.records import LOCAL_CHAT_URL, UNREACHABLE, ConversationRef, Notification, OutboxEntry

CLAIM_SECONDS = 60
MAX_ATTEMPTS = 8


def _entry(row) -> OutboxEntry:
    return OutboxEntry(
        id=row.id, key=row.key, claim_token=row.claim_token, conversation=ConversationRef(**row.conversation), activity=row.activity,
        update_of=row.update_of, status=row.status, attempts=row.attempts, last_error=row.last_error,
        activity_id=row.activity_id, created_at=row.created_at, if_failed=row.if_failed,
    )


def _follow_up(note: Notification | None) -> dict | None:
    if note is None:
        return None
    return {"key": note.key, "conversation": asdict(note.conversation), "activity": _stored(note.activity),
            "undeliverable": note.undeliverable}


def _stored(activity: dict) -> dict:
    """The worker addresses each message from its stored conversation reference, not the activity's own field."""
    return {k: v for k, v in activity.items() if k != "conversation"}


def backoff_seconds(attempts: int, retry_after: float | None = None, base: float = 1.0) -> float:
    """Exponential backoff with jitter, capped at five minutes; Retry-After wins when the connector sends one."""
    if retry_after is not None:
        return retry_after
    return random.uniform(0.5, 1.0) * min(300.0, base * 2.0 ** (attempts - 1))


def _address(field: str):
    return func.coalesce(OutboxRow.conversation[field].as_string(), "")


def in_world(local_chat: bool):
    """Entries addressed to the terminal chat's conversations (local_chat), or to anything else."""
    local = _address("service_url") == LOCAL_CHAT_URL
    return local if local_chat else ~local


def unroutable():
    return _address("id").startswith(UNREACHABLE, autoescape=True)


class Outbox:
    def __init__(self, db: Database, *, base_delay: float = 1.0, claim_seconds: float = CLAIM_SECONDS,
                 local_chat: bool = False) -> None:
        self._db = db
        self._base_delay = base_delay
        self._claim_seconds = claim_seconds
        self._world = local_chat

    async def add_in(
        self, session, key: str, conversation: ConversationRef, activity: dict, *,
        update_of: str | None = None, undeliverable: str | None = None, if_failed: Notification | None = None,
    ) -> None:
        """Queue a message inside the caller's transaction; a key already queued is left as it is.

        `undeliverable` records a message that cannot be sent (no conversation with that person yet) as
        failed, with the reason, so that it shows in `policy-bot outbox` instead of vanishing.
        `if_failed` is queued in its turn if this message fails for good (see `_give_up`)."""
        await self._insert(session, key, conversation, activity, update_of=update_of, undeliverable=undeliverable,
                           follow_up=_follow_up(if_failed))

    async def _insert(self, session, key: str, conversation: ConversationRef, activity: dict, *,
                      update_of: str | None = None, undeliverable: str | None = None, follow_up: dict | None = None) -> None:
        now = utc_now()
        statement = self._db.insert_ignore(
            OutboxRow.__table__,
            dict(key=key, conversation=asdict(conversation), activity=_stored(activity), update_of=update_of,
                 status="failed" if undeliverable else "pending", last_error=undeliverable,
                 attempts=0, next_attempt_at=now, created_at=now, if_failed=follow_up),
            ["key"],
        )
        await session.execute(statement)

    async def add_notifications_in(self, session, notifications: list[Notification]) -> None:
        for note in notifications:
            await self.add_in(session, note.key, note.conversation, note.activity, update_of=note.update_of,
                              undeliverable=note.undeliverable, if_failed=note.if_failed)

    async def add_many_in(self, session, messages: list[tuple[str, ConversationRef, dict]]) -> None:
        """Queue many messages in one statement (reminder rounds); keys already queued are left alone."""
        if not messages:
            return
        from sqlalchemy.dialects import postgresql, sqlite

        now = utc_now()
        dialect = sqlite if self._db.is_sqlite else postgresql
        rows = [dict(key=key, conversation=asdict(ref), activity=_stored(activity), update_of=None, status="pending",
                     attempts=0, next_attempt_at=now, created_at=now) for key, ref, activity in messages]
        await session.execute(dialect.insert(OutboxRow.__table__).values(rows).on_conflict_do_nothing(index_elements=["key"]))

    async def add_many(self, messages: list[tuple[str, ConversationRef, dict]]) -> None:
        """add_many_in, in a transaction of its own."""
        async with self._db.sessions.begin() as session:
            await self.add_many_in(session, messages)

    async def claim(self, limit: int = 20) -> list[OutboxEntry]:
        now = utc_now()
        token = uuid.uuid4().hex
        due = (
            select(OutboxRow.id)
            .where(
                ((OutboxRow.status == "pending") & (OutboxRow.next_attempt_at <= now))
                | ((OutboxRow.status == "sending") & (OutboxRow.claimed_until < now))
            )
            .where(in_world(self._world))
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        if not self._db.is_sqlite:
            due = due.with_for_update(skip_locked=True)
        async with self._db.sessions.begin() as session:
            rows = (
                await session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id.in_(due.scalar_subquery()))
                    .values(status="sending", attempts=OutboxRow.attempts + 1, claim_token=token,
                            claimed_until=now + timedelta(seconds=self._claim_seconds))
                    .returning(OutboxRow)
                    .execution_options(synchronize_session=False)
                )
            ).scalars().all()
            return sorted((_entry(row) for row in rows), key=lambda e: e.id)

    async def still_mine(self, entry: OutboxEntry) -> bool:
        """Renew the claim just before sending; False if it expired and someone else has taken the entry."""
        async with self._db.sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == entry.id, OutboxRow.claim_token == entry.claim_token, OutboxRow.status == "sending")
                .values(claimed_until=utc_now() + timedelta(seconds=self._claim_seconds))
            )
            return result.rowcount == 1

    def _held(self, entry: OutboxEntry):
        return (OutboxRow.id == entry.id) & (OutboxRow.claim_token == entry.claim_token)

    async def delivered(self, entry: OutboxEntry, activity_id: str | None) -> None:
        async with self._db.sessions.begin() as session:
            await session.execute(
                update(OutboxRow).where(self._held(entry))
                .values(status="sent", activity_id=activity_id, sent_at=utc_now(), claimed_until=None, last_error=None)
            )

    async def retry_later(self, entry: OutboxEntry, error: str, retry_after: float | None) -> bool:
        """Reschedule; past the last attempt the entry is marked failed (never dropped). True if rescheduled."""
        give_up = entry.attempts >= MAX_ATTEMPTS
        async with self._db.sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow).where(self._held(entry)).values(
                    status="failed" if give_up else "pending",
                    next_attempt_at=utc_now() + timedelta(seconds=backoff_seconds(entry.attempts, retry_after, self._base_delay)),
                    claimed_until=None, last_error=error[:500],
                )
            )
            if give_up and result.rowcount == 1:
                await self._give_up(session, entry)
        return not give_up

    async def failed(self, entry: OutboxEntry, error: str) -> None:
        """The connector refused the message for good (a 4xx such as 413 MessageSizeTooBig)."""
        async with self._db.sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow).where(self._held(entry))
                .values(status="failed", claimed_until=None, last_error=error[:500])
            )
            if result.rowcount == 1:
                await self._give_up(session, entry)

    async def _give_up(self, session, entry: OutboxEntry) -> None:
        """In the transaction that marks an entry failed: queue the message that tells whoever was told it had been
        sent. Its key is fixed, so a retried entry that fails again tells them nothing new."""
        follow = entry.if_failed
        if follow:
            await self.add_in(session, follow["key"], ConversationRef(**follow["conversation"]), follow["activity"],
                              undeliverable=follow.get("undeliverable"))

    async def activity_id_of(self, key: str) -> str | None:
        async with self._db.sessions() as session:
            return (await session.execute(select(OutboxRow.activity_id).where(OutboxRow.key == key))).scalar()

    async def sent_as(self, activity_id: str) -> OutboxEntry | None:
        """The entry Teams gave this activity id when it was delivered (a reply that waited in the outbox)."""
        async with self._db.sessions() as session:
            row = (await session.execute(select(OutboxRow).where(OutboxRow.activity_id == activity_id)
                                         .order_by(OutboxRow.id.desc()).limit(1))).scalar()
            return _entry(row) if row else None

    async def keys_with_prefix(self, prefix: str) -> set[str]:
        async with self._db.sessions() as session:
            rows = await session.execute(select(OutboxRow.key).where(OutboxRow.key.startswith(prefix, autoescape=True)))
            return {key for (key,) in rows}

    async def counts_with_prefix(self, prefix: str) -> dict[str, int]:
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(OutboxRow.status, func.count()).where(OutboxRow.key.startswith(prefix, autoescape=True))
                .group_by(OutboxRow.status)
            )
            return {status: count for status, count in rows}

    async def entries(self, status: str | None = None, limit: int = 200, *, prefix: str | None = None) -> list[OutboxEntry]:
        async with self._db.sessions() as session:
            query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
            if status:
                query = query.where(OutboxRow.status == status)
            if prefix:
                query = query.where(OutboxRow.key.startswith(prefix, autoescape=True))
            return [_entry(row) for row in (await session.execute(query)).scalars()]

    async def counts(self) -> dict[str, int]:
        async with self._db.sessions() as session:
            rows = await session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
            return {status: count for status, count in rows}

    async def retry(self, entry_id: int | None = None) -> int:
        """Put failed entries (one, or all) back in the queue; returns how many. Entries that were never routed are
        left to `reroute` (requeued as they are, they would only go to the same non-address again)."""
        condition = (OutboxRow.status == "failed") & in_world(self._world) & ~unroutable()
        if entry_id is not None:
            condition = condition & (OutboxRow.id == entry_id)
        async with self._db.sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow).where(condition).values(status="pending", attempts=0, next_attempt_at=utc_now())
            )
            return result.rowcount

    async def waiting(self, entry_id: int | None = None, limit: int = 500) -> list[OutboxEntry]:
        """Entries of this world that could not be routed when they were written, oldest first."""
        query = (select(OutboxRow).where(OutboxRow.status == "failed", unroutable(), in_world(self._world))
                 .order_by(OutboxRow.id).limit(limit))
        if entry_id is not None:
            query = query.where(OutboxRow.id == entry_id)
        async with self._db.sessions() as session:
            return [_entry(row) for row in (await session.execute(query)).scalars()]

    async def reroute(self, entry: OutboxEntry, notes: list[Notification]) -> bool:
        """Replace an unroutable entry by `notes`, its messages to where it can go now, in one transaction: the same
        row readdressed if the key is unchanged, or new rows for a team that is now several people. False if another
        process routed it first (or it was sent meanwhile)."""
        mine = (OutboxRow.id == entry.id) & (OutboxRow.status != "sent") & (_address("id") == entry.conversation.id)
        async with self._db.sessions.begin() as session:
            if len(notes) == 1 and notes[0].key == entry.key:
                note = notes[0]
                result = await session.execute(update(OutboxRow).where(mine).values(
                    conversation=asdict(note.conversation), activity=_stored(note.activity),
                    status="failed" if note.undeliverable else "pending", last_error=note.undeliverable,
                    attempts=0, next_attempt_at=utc_now(), claim_token=None, claimed_until=None,
                ).execution_options(synchronize_session=False))
                return result.rowcount == 1
            result = await session.execute(delete(OutboxRow).where(mine).execution_options(synchronize_session=False))
            if result.rowcount != 1:
                return False
            for note in notes:
                await self._insert(session, note.key, note.conversation, note.activity,
                                   undeliverable=note.undeliverable, follow_up=entry.if_failed)
            return True

    async def still_unroutable(self, entry: OutboxEntry, problem: str) -> None:
        """Keep the entry as it is, marked failed with today's reason (a claimed one is released)."""
        async with self._db.sessions.begin() as session:
            await session.execute(update(OutboxRow).where(OutboxRow.id == entry.id, OutboxRow.status != "sent").values(
                status="failed", last_error=problem[:500], claimed_until=None, claim_token=None))
