"""End to end in Microsoft's own local Teams client, the Microsoft 365 Agents Playground, driven by headless Chromium."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from support.processes import free_port, serving_local, wait_http

HERE = Path(__file__).parent
NODE_BIN = HERE / "node" / "node_modules" / ".bin"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def megans_tool_request(service_url: str) -> dict:
    """Another Playground user's form submission, as Teams would send it from her own client."""
    return {
        "type": "invoke", "name": "adaptiveCard/action", "channelId": "msteams", "id": "megan-request-1",
        "serviceUrl": service_url,
        "from": {"id": "user-id-1", "name": "Megan Bowen", "aadObjectId": "00000000-0000-0000-0000-0000000000021"},
        "recipient": {"id": "00000000-0000-0000-0000-00000000000011", "name": "Test Bot"},
        "conversation": {"id": "megan-personal-chat", "conversationType": "personal",
                         "tenantId": "00000000-0000-0000-0000-0000000000001"},
        "channelData": {"tenant": {"id": "00000000-0000-0000-0000-0000000000001"}, "source": {"name": "message"}},
        "value": {"action": {"type": "Action.Execute", "verb": "approval.submit", "data": {
            "verb": "approval.submit", "tool_name": "Otter.ai", "purpose": "Transcribe team meetings for minutes.",
            "data_classification": "personal", "data_description": "Colleagues' names and voices.",
            "expected_output": "Transcripts and action lists.", "output_use": "Minutes for the team, after review.",
            "category": "public"}}},
    }


@pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"), reason="Chromium not installed (CI installs it)")
def test_question_and_card_buttons_in_the_agents_playground(tmp_path):
    bot_port, playground_port = free_port(), free_port()
    # The Playground has one user; making them a triage member and the DPO puts triage cards in the same chat.
    alex = "00000000-0000-0000-0000-0000000000020"
    env = {**os.environ, "PORT": str(bot_port), "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", "LOG_LEVEL": "WARNING",
           "GOVERNANCE_IDS": alex, "SECURITY_IDS": alex, "DPO_IDS": alex, "APPROVER_IDS": alex}
    with serving_local(env, tmp_path / "bot.log"):
        # The Playground stops when its stdin closes, so it gets a pipe that stays open.
        playground = subprocess.Popen(
            [str(NODE_BIN / "agentsplayground"), "-e", f"http://127.0.0.1:{bot_port}/api/messages", "-c", "msteams",
             "-p", str(playground_port), "--dt"],
            stdin=subprocess.PIPE, stdout=open(tmp_path / "playground.log", "w"), stderr=subprocess.STDOUT, cwd=tmp_path,
        )
        try:
            run_playground_flow(tmp_path, bot_port, playground_port)
        finally:
            playground.terminate()
            playground.wait(10)


def run_playground_flow(tmp_path, bot_port: int, playground_port: int) -> None:
    """Megan's request, then tests/node/playground_flow.js clicking through the Playground in Chromium."""
    wait_http(f"http://localhost:{playground_port}/")
    other_request = tmp_path / "megan-request.json"
    other_request.write_text(json.dumps(megans_tool_request(f"http://localhost:{playground_port}/_connector")))
    result = subprocess.run(
        ["node", str(HERE / "node" / "playground_flow.js"), f"http://localhost:{playground_port}/", str(tmp_path),
         f"http://127.0.0.1:{bot_port}/api/messages", str(other_request)],
        capture_output=True, text=True, timeout=180, env={**os.environ, "CHROMIUM": CHROMIUM},
    )
    assert result.returncode == 0, result.stdout + result.stderr + (tmp_path / "bot.log").read_text()
    assert "Traceback" not in (tmp_path / "bot.log").read_text()


def test_make_playground_stays_up_on_a_headless_machine(tmp_path):
    """The README's command: no browser to open, no display, and telemetry off."""
    port = free_port()
    root = HERE.parent
    dry = subprocess.run(["make", "-n", "playground"], cwd=root, capture_output=True, text=True)
    assert "TEAMSAPPTESTER_BROWSER=none" in dry.stdout and "--disable-telemetry" in dry.stdout
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")}
    playground = subprocess.Popen(["make", "-s", "playground", f"PLAYGROUND_PORT={port}"], cwd=root, env=env,
                                  stdin=subprocess.PIPE, stdout=open(tmp_path / "playground.log", "w"),
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_http(f"http://localhost:{port}/")
        time.sleep(2)  # opening a browser fails within a moment of listening; it must still be up after
        assert playground.poll() is None, (tmp_path / "playground.log").read_text()
        wait_http(f"http://localhost:{port}/")
    finally:
        os.killpg(playground.pid, signal.SIGTERM)
        playground.wait(10)
