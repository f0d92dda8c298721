"""A botbuilder `Storage` on our database, with eTags for optimistic concurrency.

Conversation and user state written here survive restarts and are shared by every
bot process on the same database. A write whose eTag no longer matches raises
`KeyError`, as botbuilder's own stores do.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from botbuilder.core import Storage
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import BotStateRow


class EtagConflict(KeyError):
    pass


def _plain(value: Any) -> tuple[dict, str | None]:
    data = dict(value) if isinstance(value, dict) else {k: v for k, v in vars(value).items() if not k.startswith("_")}
    etag = data.pop("e_tag", None)
    # Round-trip through JSON now so that a value that cannot be stored fails here, by name.
    return json.loads(json.dumps(data, default=str)), etag


class SqlStorage(Storage):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def read(self, keys: list[str]) -> dict[str, dict]:
        if not keys:
            return {}
        async with self._db.sessions() as session:
            rows = (await session.execute(select(BotStateRow).where(BotStateRow.key.in_(keys)))).scalars()
            return {row.key: {**row.data, "e_tag": str(row.etag)} for row in rows}

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise TypeError("changes are required when writing")
        for key, value in changes.items():
            data, etag = _plain(value)
            if etag == "":
                raise ValueError(f"empty eTag for {key}")
            await self._write_one(key, data, None if etag in (None, "*") else etag)

    async def _write_one(self, key: str, data: dict, etag: str | None) -> None:
        now = datetime.now(timezone.utc)
        async with self._db.sessions.begin() as session:
            condition = [BotStateRow.key == key]
            if etag is not None:
                condition.append(BotStateRow.etag == int(etag))
            result = await session.execute(
                update(BotStateRow).where(*condition).values(data=data, etag=BotStateRow.etag + 1, updated_at=now)
            )
            if result.rowcount == 1:
                return
            if etag is not None:
                raise EtagConflict(f"eTag conflict on {key}: it was changed since eTag {etag}")
        try:
            async with self._db.sessions.begin() as session:
                session.add(BotStateRow(key=key, data=data, etag=1, updated_at=now))
        except IntegrityError:
            # Someone created it between our update and insert: last writer without an eTag wins.
            await self._write_one(key, data, None)

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        async with self._db.sessions.begin() as session:
            await session.execute(delete(BotStateRow).where(BotStateRow.key.in_(keys)))
