"""The service's own logs, at every level and in both formats, hold no message text and no SQL parameters:
not from the database drivers, not from SQLAlchemy's error messages, not from a traceback's local variables."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from support.activities import card_action, message
from support.connector import posted_to
from support.processes import free_port, serve_local

REPORT = {"tool_name": "Copilot", "occurred_at": "2026-11-20 09:30", "personal_data": "no", "category": "other",
          "severity": "low", "anonymous": "false"}


async def start_server(database_url: str, log_format: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": database_url, "LOG_LEVEL": "DEBUG", "LOG_FORMAT": log_format,
           "GOVERNANCE_IDS": "aad-gov"}
    log_path.write_text("")
    return await asyncio.to_thread(serve_local, env, log_path), f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("log_format", ["json", "console"])
async def test_no_text_or_sql_parameters_reach_the_log_even_at_debug(log_format, database_url, connector, tmp_path):
    secret = f"zq{uuid.uuid4().hex[:10]}"
    log_path = tmp_path / "bot.log"
    process, url = await start_server(database_url, log_format, log_path)
    try:
        async with aiohttp.ClientSession() as session:
            async def post(body: dict) -> int:
                async with session.post(f"{url}/api/messages", json=body) as response:
                    await response.read()
                    return response.status

            # Ordinary turns: a question, and an incident report from a named person.
            assert await post(message(connector, f"Can I use ChatGPT for {secret}-question?", user="aad-a",
                                      conversation_id="a:a")) == 200
            report = card_action(connector, "incident.submit", {**REPORT, "description": f"{secret}-incident happened"},
                                 user="aad-b", conversation_id="a:b")
            report["from"]["name"] = f"{secret}-name"
            assert await post(report) == 200
            for _ in range(300):  # the welcome, the acknowledgement prompt and the answer
                if len(posted_to(connector, "a:a")) >= 3:
                    break
                await asyncio.sleep(0.05)

            # A statement that fails: its error names the statement, and used to carry its parameters too.
            engine = create_async_engine(database_url)
            async with engine.begin() as connection:
                await connection.exec_driver_sql("ALTER TABLE questions RENAME TO questions_gone")
            await engine.dispose()
            assert await post(message(connector, f"What about {secret}-failing?", user="aad-a",
                                      conversation_id="a:a")) == 200
            await connector.wait_for_text("something went wrong", timeout=15, conversation="a:a")
    finally:
        process.terminate()
        process.wait(10)
    logged = log_path.read_text()
    assert "turn failed" in logged and "questions" in logged  # the failure itself is logged...
    assert secret not in logged  # ...but nothing anyone wrote, nor any statement's parameters
