"""Two real bot processes sharing one database behind 'one address': flows continue across them,
the first decision wins across them, and their outbox workers never send an entry twice."""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter

import aiohttp
import pytest

from support.activities import card_action, message
from support.processes import free_port, serve_local

APP1, APP2, STAFF = "aad-app1", "aad-app2", "aad-staff"
REQUEST = {
    "tool_name": "Gamma", "purpose": "Draft slide decks.", "data_classification": "public",
    "data_description": "Published reports.", "expected_output": "Slides.", "output_use": "Internal briefings.",
    "category": "public",
}


@pytest.fixture
async def two_bots(database_url, tmp_path, connector):
    ports = [free_port(), free_port()]
    base = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", "APPROVER_IDS": f"{APP1},{APP2}",
            "OUTBOX_BASE_DELAY_SECONDS": "0.05"}
    processes = []
    try:
        for n, port in enumerate(ports):  # one after the other: the first migrates and seeds
            processes.append(await asyncio.to_thread(serve_local, {**base, "PORT": str(port)}, tmp_path / f"bot{n}.log"))
        yield [f"http://127.0.0.1:{port}/api/messages" for port in ports]
    finally:
        for process in processes:  # both stop at once; a second SIGTERM would cut a graceful shutdown short
            process.terminate()
        for process in processes:
            process.wait(10)
        logs = "".join(p.read_text() for p in tmp_path.glob("bot*.log"))
        assert "Traceback" not in logs, logs[-3000:]


async def post(session: aiohttp.ClientSession, url: str, body: dict) -> dict | None:
    async with session.post(url, json=body) as response:
        assert response.status == 200, await response.text()
        return await response.json() if response.content_type == "application/json" else None


async def test_flows_decisions_and_delivery_hold_across_two_processes(two_bots, connector):
    a, b = two_bots
    async with aiohttp.ClientSession() as session:
        for user, url in ((APP1, a), (APP2, b), (STAFF, a)):
            await post(session, url, message(connector, "help", user=user, conversation_id=f"a:{user}"))
        # The requester opens the form on one process and sends it to the other.
        await post(session, a, message(connector, "request tool Gamma", user=STAFF, conversation_id=f"a:{STAFF}"))
        await connector.wait_for_text("Request approval for an AI tool", conversation=f"a:{STAFF}")
        receipts = await asyncio.gather(*[
            post(session, (b, a)[n % 2], card_action(connector, "approval.submit", {**REQUEST, "tool_name": f"Tool {n}"},
                                                   user=STAFF, conversation_id=f"a:{STAFF}"))
            for n in range(12)
        ])
        references = sorted(r["value"]["body"][0]["text"].split(": ")[1] for r in receipts)
        assert len(set(references)) == 12  # REQ numbers never collide, whichever process allocates them

        # Each approver gets every card exactly once, though both processes' workers drain the outbox.
        for user in (APP1, APP2):
            for reference in references:
                await connector.wait_for_text(f"AI tool request {reference}", conversation=f"a:{user}", timeout=20)
        await asyncio.sleep(1.0)
        sent = Counter((r.path.split("/")[3], json.dumps(r.body).split("AI tool request ")[1][:13])
                       for r in connector.requests
                       if r.method == "POST" and "AI tool request REQ-" in json.dumps(r.body or {}))
        assert len(sent) == 24 and set(sent.values()) == {1}, sent

        # Two approvers decide the same request at once, on different processes: exactly one decision.
        data = {"reference": references[0], "version": 1}
        results = await asyncio.gather(
            post(session, a, card_action(connector, "approval.decide", {**data, "action": "approve"}, user=APP1)),
            post(session, b, card_action(connector, "approval.decide", {**data, "action": "reject", "reason": "No."},
                                         user=APP2)),
        )
        texts = [json.dumps(r["value"]) for r in results]
        assert sum("Already " in t for t in texts) == 1, texts
        told = await connector.wait_for_text(f"Your request **{references[0]}**", conversation=f"a:{STAFF}", timeout=20)
        await asyncio.sleep(1.0)
        assert sum(f"Your request **{references[0]}**" in json.dumps(r.body or {}) for r in connector.requests
                   if r.method == "POST") == 1
        assert ("approved" in told["text"]) != ("rejected" in told["text"])
