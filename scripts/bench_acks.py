"""Benchmark acknowledgements at scale on PostgreSQL: the report query, and a reminder round at Teams' pace.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/postgres python scripts/bench_acks.py [--users 20000]

Seeds a fresh database with N users (each with a 1:1 conversation) and three policy versions
(95 % and 85 % acknowledged the first two; nobody yet the current one), times the report
queries, then sends a reminder round to everyone through the outbox against a fake connector
that allows 50 requests a second and answers 429 (Retry-After: 1) beyond that.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.outbound.connector import BotConnector  # noqa: E402
from bot.microsoft.credentials import TokenProvider  # noqa: E402
from bot.outbound.worker import DeliveryWorker  # noqa: E402
from dialogs.reminders import queue_round  # noqa: E402
from bot.service_urls import ServiceUrls  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import AcknowledgementRow, ConversationRow, UserRow  # noqa: E402
from storage.policies import PolicyRepository  # noqa: E402


class ThrottlingConnector:
    """Accepts at most `rate` requests in any one-second window; 429 beyond it."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.window: list[float] = []
        self.accepted: Counter = Counter()
        self.throttled = 0

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        now = time.monotonic()
        self.window = [t for t in self.window if now - t < 1.0]
        if len(self.window) >= self.rate:
            self.throttled += 1
            return web.json_response({"error": "throttled"}, status=429, headers={"Retry-After": "1"})
        self.window.append(now)
        self.accepted[request.path.split("/")[3]] += 1
        return web.json_response({"id": str(uuid.uuid4())})


async def create_database(admin_url: str) -> tuple[str, str]:
    import asyncpg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}", name


async def seed(db: Database, users: int, service_url: str) -> list[int]:
    policies = PolicyRepository(db, __import__("storage.audit", fromlist=["AuditTrail"]).AuditTrail(db))
    text = (ROOT / "domain/data/example-policy.md").read_text()
    versions = [await policies.publish(label=f"v{n}", text=text + f"\n<!-- {n} -->\n", source_name="p.md", published_by="bench")
                for n in (1, 2, 3)]
    now = datetime.now(timezone.utc)
    ids = [f"{uuid.UUID(int=n):}" for n in range(1, users + 1)]
    rng = random.Random(7)
    async with db.engine.begin() as connection:
        for start in range(0, users, 5000):
            chunk = ids[start:start + 5000]
            await connection.execute(UserRow.__table__.insert(), [
                {"id": u, "name": f"User {u[-5:]}", "tenant_id": "t", "first_seen_at": now, "welcomed_at": now} for u in chunk])
            await connection.execute(ConversationRow.__table__.insert(), [
                {"id": f"a:{u}", "kind": "personal", "service_url": service_url, "channel_id": "msteams", "tenant_id": "t",
                 "bot_id": "28:bot", "user_id": u, "user_teams_id": f"29:{u}", "updated_at": now} for u in chunk])
            for version, share in ((versions[0], 0.95), (versions[1], 0.85)):
                await connection.execute(AcknowledgementRow.__table__.insert(), [
                    {"user_id": u, "user_name": None, "version_id": version.id, "version_label": version.label,
                     "sha256": version.sha256, "acknowledged_at": now} for u in chunk if rng.random() < share])
        await connection.exec_driver_sql("ANALYZE")
    return [v.id for v in versions]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--rate", type=int, default=50)
    args = parser.parse_args()
    admin = os.environ.get("TEST_DATABASE_URL") or sys.exit("set TEST_DATABASE_URL to a PostgreSQL server (see scripts/start-test-postgres.sh)")

    fake = ThrottlingConnector(args.rate)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    service_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    url, name = await create_database(admin)
    settings = Settings(_env_file=None, database_url=url, log_level="WARNING")
    db = Database(url, pool_size=20)
    await db.upgrade()
    started = time.perf_counter()
    version_ids = await seed(db, args.users, service_url)
    print(f"seeded {args.users} users, 3 versions in {time.perf_counter() - started:.1f} s")

    connector = BotConnector(TokenProvider(None), ServiceUrls.for_settings(settings), attempts=1,
                             timeout=settings.connector_timeout)
    services = Services.build(settings, connector, db=db)
    timings = {"figures": [], "report": []}
    for _ in range(5):
        t0 = time.perf_counter()
        figures = await services.acknowledgements.figures(version_ids[1])
        timings["figures"].append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        rows = await services.acknowledgements.report(version_ids[2])
        timings["report"].append((time.perf_counter() - t0) * 1000)
    print(f"report card query (acknowledged vs known, one version): median {statistics.median(timings['figures']):.0f} ms "
          f"-> {figures[0]} of {figures[1]}")
    print(f"full per-person report ({len(rows)} rows, for CSV): median {statistics.median(timings['report']):.0f} ms")

    delivery = DeliveryWorker(services.outbox, connector, per_tenant_per_second=args.rate,
                              per_conversation_per_second=7, batch=200, idle_seconds=0.2, doorbell=services.doorbell)
    started = time.perf_counter()
    plan = await queue_round(services, "bench")
    queued_at = time.perf_counter() - started
    delivery.start()
    while True:
        counts = await services.outbox.counts_with_prefix(plan.key_prefix)
        done = counts.get("sent", 0) + counts.get("failed", 0)
        if done >= plan.queued:
            break
        await asyncio.sleep(1)
    elapsed = time.perf_counter() - started
    await delivery.stop()
    doubled = sum(1 for n in fake.accepted.values() if n > 1)
    missing = plan.queued - len(fake.accepted)
    print(f"reminder round: {plan.queued} queued in {queued_at:.1f} s; all settled in {elapsed:.0f} s "
          f"({plan.queued / elapsed:.1f}/s); sent {counts.get('sent', 0)}, failed {counts.get('failed', 0)}; "
          f"429s from the connector: {fake.throttled}; people reminded: {len(fake.accepted)}, twice: {doubled}, "
          f"missed: {missing}")
    await connector.close()
    await db.dispose()
    await runner.cleanup()
    import asyncpg

    connection = await asyncpg.connect(admin.replace("postgresql+asyncpg://", "postgresql://"))
    await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await connection.close()


if __name__ == "__main__":
    asyncio.run(main())
