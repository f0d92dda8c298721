"""Users and conversation references."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import ConversationRow, UserRow
from storage.times import utc_now
from domain.records import LOCAL_CHAT_URL, ConversationRef


def in_world(local_chat: bool):
    """Conversations of the terminal chat (local_chat), or of Teams: each world reaches only its own people."""
    local = ConversationRow.service_url == LOCAL_CHAT_URL
    return local if local_chat else ~local


def _ref(row: ConversationRow) -> ConversationRef:
    return ConversationRef(
        id=row.id,
        kind=row.kind,
        service_url=row.service_url,
        channel_id=row.channel_id,
        bot_id=row.bot_id,
        tenant_id=row.tenant_id,
        bot_name=row.bot_name,
        user_id=row.user_id,
        user_teams_id=row.user_teams_id,
        team_id=row.team_id,
        teams_channel_id=row.teams_channel_id,
    )


class ConversationRepository:
    def __init__(self, db: Database, *, local_chat: bool = False) -> None:
        self._db = db
        self._world = in_world(local_chat)
        # Saving a reference on every message would cost a write per turn; a process only
        # rewrites one it has not seen, or whose service URL moved.
        self._seen: dict[str, str] = {}

    async def save(self, ref: ConversationRef) -> None:
        if self._seen.get(ref.id) == ref.service_url:
            return
        async with self._db.sessions.begin() as session:
            await session.execute(self._db.upsert(ConversationRow.__table__, {**asdict(ref), "updated_at": utc_now()}, ["id"]))
        self._seen[ref.id] = ref.service_url

    async def get(self, conversation_id: str) -> ConversationRef | None:
        async with self._db.sessions() as session:
            row = await session.get(ConversationRow, conversation_id)
            return _ref(row) if row else None

    async def personal_for(self, user_id: str) -> ConversationRef | None:
        async with self._db.sessions() as session:
            row = (
                await session.execute(
                    select(ConversationRow)
                    .where(ConversationRow.user_id == user_id, ConversationRow.kind == "personal", self._world)
                    .order_by(ConversationRow.updated_at.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            return _ref(row) if row else None


    async def personal_for_many(self, user_ids: list[str]) -> dict[str, ConversationRef]:
        """Each person's most recent 1:1 conversation, for many people in one query."""
        if not user_ids:
            return {}
        async with self._db.sessions() as session:
            rows = (await session.execute(
                select(ConversationRow)
                .where(ConversationRow.user_id.in_(user_ids), ConversationRow.kind == "personal", self._world)
                .order_by(ConversationRow.updated_at)
            )).scalars()
            return {row.user_id: _ref(row) for row in rows}


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._welcomed: set[str] = set()

    async def needs_welcome(self, user_id: str, *, name: str | None, teams_user_id: str | None, tenant_id: str | None) -> bool:
        """Record the user if new; True exactly once per user, for whichever process claims it."""
        if user_id in self._welcomed:
            return False
        try:
            return await self._claim_welcome(user_id, name, teams_user_id, tenant_id)
        except IntegrityError:  # another process inserted the same new user first
            return await self._claim_welcome(user_id, name, teams_user_id, tenant_id)

    async def teams_ids(self, user_ids: list[str]) -> dict[str, str]:
        """The Teams user ids (29:…) the bot has seen for these Entra object ids."""
        if not user_ids:
            return {}
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(UserRow.id, UserRow.teams_user_id).where(UserRow.id.in_(user_ids), UserRow.teams_user_id.is_not(None))
            )
            return {user_id: teams_id for user_id, teams_id in rows}

    async def _claim_welcome(self, user_id: str, name: str | None, teams_user_id: str | None, tenant_id: str | None) -> bool:
        now = utc_now()
        async with self._db.sessions.begin() as session:
            row = await session.get(UserRow, user_id)
            if row is None:
                session.add(
                    UserRow(id=user_id, name=name, teams_user_id=teams_user_id, tenant_id=tenant_id, first_seen_at=now)
                )
                await session.flush()
            elif name and row.name != name:
                row.name = name
            # A conditional update decides the winner when two processes see the same first message.
            claimed = await session.execute(
                update(UserRow).where(UserRow.id == user_id, UserRow.welcomed_at.is_(None)).values(welcomed_at=now)
            )
        self._welcomed.add(user_id)
        return claimed.rowcount == 1
