"""`policy-bot remind` against a person whose stored address is not HTTP: one attempt, one line, no traceback."""

from __future__ import annotations

from bot.database import open_database
from support.bots import make_settings
from domain import EXAMPLE_POLICY_PATH
from domain.records import ConversationRef
from storage.conversations import ConversationRepository
from storage.outbox import Outbox
from support.processes import run_cli as run


async def seed(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/b.db"
    assert run("policy", "publish", str(EXAMPLE_POLICY_PATH), "--version", "1", env={"DATABASE_URL": url}).returncode == 0
    db = open_database(make_settings(f"sqlite+aiosqlite:///{tmp_path}/b.db"))
    try:
        await db.upgrade()
        # Stored before ALLOWED_SERVICE_URLS changed, say: not an address the bot may send to.
        await ConversationRepository(db).save(ConversationRef(
            id="a:ftp", kind="personal", service_url="ftp://files.example.org/", channel_id="msteams", bot_id="bot",
            user_id="aad-ftp"))
    finally:
        await db.dispose()
    return url


async def attempts(tmp_path) -> list[int]:
    db = open_database(make_settings(f"sqlite+aiosqlite:///{tmp_path}/b.db"))
    try:
        return [e.attempts for e in await Outbox(db).entries(prefix="reminder:")]
    finally:
        await db.dispose()


async def test_a_reminder_to_an_address_that_is_not_http_fails_at_once_in_one_line(tmp_path):
    url = await seed(tmp_path)
    result = run("remind", "--round", "r1", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "not reminded: aad-ftp: connector answered 400: not an allowed service URL (it is not https)" in result.stdout
    assert "round r1: sent 0, failed 1" in result.stdout
    assert "Traceback" not in result.stderr and "refused by the connector" not in result.stderr
    assert await attempts(tmp_path) == [1]  # a permanent error: not retried


async def test_remind_debug_logs_each_attempt(tmp_path):
    url = await seed(tmp_path)
    result = run("remind", "--round", "r1", "--debug", env={"DATABASE_URL": url})
    assert result.returncode == 0 and "outbox entry refused by the connector" in result.stderr
