"""SIGKILL the bot in the middle of a burst of incident reports or tool requests, restart it: nothing
acknowledged is lost, every notification arrives, and nothing is sent twice but the crash-instant case."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from support.activities import card_action, message
from support.processes import free_port, serve_local, serving_local

REPORT = {"verb": "incident.submit", "description": "A chatbot exposed a case file.", "tool_name": "ChatGPT",
          "occurred_at": "2026-11-20 09:30", "personal_data": "no", "category": "data_exposed", "severity": "high",
          "anonymous": "false"}


REQUEST = {"verb": "approval.submit", "tool_name": "Gamma", "purpose": "Slides.", "data_classification": "public",
           "data_description": "Reports.", "expected_output": "Slides.", "output_use": "Briefings.", "category": "public"}
FLOWS = {  # submission, what the receipt says, where the records are
    "incident": (REPORT, "Report received: ", "incidents"),
    "tool request": (REQUEST, "Request received: ", "approval_requests"),
}
KILL_AFTER = 10  # acknowledged reports of the 40 sent 8 at a time before the SIGKILL
CARD_TITLE = re.compile(r"(?:AI incident|AI tool request) ((?:INC|REQ)-\d{4}-\d{4})")


def received(connector) -> Counter:
    """(conversation, reference on the card) of every card the connector was sent."""
    found = Counter()
    for r in list(connector.fake.requests):
        title = CARD_TITLE.search(json.dumps(r.body)) if r.method == "POST" else None
        if title:
            found[(r.path.split("/")[3], title.group(1))] += 1
    return found


def post(port: int, body: dict) -> dict | None:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", "/api/messages", body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = c.getresponse()
        text = response.read()
        return json.loads(text) if response.status == 200 and text else {}
    except (OSError, http.client.HTTPException, ValueError):
        return None  # the server died before answering: the reporter was not told it was received


def kill_mid_burst(env: dict, log: Path, connector, submission: dict, receipt: str) -> tuple[set[str], Counter]:
    """Start the bot, send 40 submissions 8 at a time, SIGKILL it after the KILL_AFTER-th receipt.

    Returns the references whose receipts arrived, and the cards the connector had been sent by then."""
    port = int(env["PORT"])
    process = serve_local(env, log)
    for member in ("aad-gov", "aad-sec"):
        post(port, message(connector.url, "help", user=member, conversation_id=f"a:{member}"))

    # The kill comes when the test sees the KILL_AFTER-th receipt, not after a fixed time: on any
    # machine some reports are then acknowledged, others are in flight, and most are not yet sent.
    receipts = 0
    enough = threading.Event()
    count_lock = threading.Lock()

    def report(n: int) -> str | None:
        body = card_action(connector.url, submission["verb"], submission, user=f"aad-staff-{n}",
                           conversation_id=f"a:aad-staff-{n}")
        answer = post(port, body)
        card = json.dumps(answer or {})
        reference = card.split(receipt)[1][:13] if receipt in card else None
        if reference:
            nonlocal receipts
            with count_lock:
                receipts += 1
                if receipts == KILL_AFTER:
                    enough.set()
        return reference

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(report, n) for n in range(40)]
        assert enough.wait(60), "the bot acknowledged fewer than KILL_AFTER reports in a minute"
        process.send_signal(signal.SIGKILL)
        process.wait()
        acknowledged = {f.result() for f in futures} - {None}
    connector.wait_idle()  # the dead bot sends nothing more; count what it had sent
    return acknowledged, received(connector)


@pytest.mark.parametrize("flow", FLOWS)
def test_sigkill_mid_burst_loses_nothing_acknowledged(flow, threaded_connector, tmp_path):
    submission, receipt, table = FLOWS[flow]
    connector = threaded_connector
    env = {**os.environ, "PORT": str(free_port()), "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", "LOG_LEVEL": "ERROR",
           "GOVERNANCE_IDS": "aad-gov", "SECURITY_IDS": "aad-sec", "APPROVER_IDS": "aad-gov,aad-sec", "OUTBOX_CLAIM_SECONDS": "2",
           "OUTBOX_BASE_DELAY_SECONDS": "0.1"}
    acknowledged, before_kill = kill_mid_burst(env, tmp_path / "bot.log", connector, submission, receipt)
    assert len(acknowledged) >= KILL_AFTER
    assert len(acknowledged) < 40, "the kill came after the burst; it tested nothing"

    with serving_local(env, tmp_path / "bot.log"):
        deadline = time.time() + 60
        while time.time() < deadline:
            with sqlite3.connect(tmp_path / "bot.db") as db:
                waiting = db.execute("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')").fetchone()[0]
            if not waiting:
                break
            time.sleep(0.3)
        with sqlite3.connect(tmp_path / "bot.db") as db:
            stored = {r for (r,) in db.execute(f"SELECT reference FROM {table}")}
            failed = db.execute("SELECT count(*) FROM outbox WHERE status = 'failed'").fetchone()[0]
        assert acknowledged <= stored, f"acknowledged but lost: {acknowledged - stored}"
        assert failed == 0
        counts = received(connector)
        for reference in stored:
            for member in ("a:aad-gov", "a:aad-sec"):
                assert counts[(member, reference)] >= 1, f"{reference} never reached {member}"
        # The one duplicate allowed: a message accepted in the instant before the kill, before it was recorded.
        assert max(counts.values()) <= 2
        assert all(before_kill[key] for key, n in counts.items() if n == 2)
