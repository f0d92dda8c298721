"""The `policy-bot` command, as a user or a service manager runs it.

`run_cli` runs one command; `serve_local` starts `policy-bot serve --local` and returns once it
answers /healthz (`serving_local` also stops it afterwards, however it ended)."""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "policy-bot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_environment(env: dict | None = None) -> dict:
    """This process's environment without the bot's own settings a developer may have exported, plus `env`."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "DATABASE_URL", "POLICY_PATH"))}
    full.update(env or {})
    return full


def run_cli(*args: str, env: dict | None = None, stdin: str | None = None, cwd: Path | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=clean_environment(env), input=stdin,
                          cwd=cwd or ROOT, timeout=timeout)


async def run_cli_async(*args: str, env: dict) -> tuple[int, str, str]:
    """One command without blocking the event loop (the test's own servers keep answering meanwhile)."""
    process = await asyncio.create_subprocess_exec(str(BIN), *args, env={**os.environ, **env},
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


def wait_http(url: str, timeout: float = 30, process: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Until `url` answers 200 (while `process`, if given, is still running)."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{url}: the process exited: {log.read_text()[-2000:] if log else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, http.client.HTTPException):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not come up: {log.read_text()[-2000:] if log else ''}")
        time.sleep(0.1)


def serve_local(env: dict, log: Path, timeout: float = 120) -> subprocess.Popen:
    """Start `policy-bot serve --local` on env["PORT"], appending its stderr to `log`; return once /healthz answers.

    The timeout is generous: on a loaded machine start-up (migrations, the policy index) takes seconds."""
    with open(log, "a") as stderr:
        process = subprocess.Popen([str(BIN), "serve", "--local"], env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        wait_http(f"http://127.0.0.1:{env['PORT']}/healthz", timeout, process, log)
    except BaseException:
        process.kill()
        process.wait(10)
        raise
    return process


def stop(process: subprocess.Popen) -> None:
    """Terminate (once: a second SIGTERM cuts aiohttp's graceful shutdown short) and reap; a process already
    killed by the test is fine."""
    if process.poll() is None:
        process.terminate()
    process.wait(10)


@contextmanager
def serving_local(env: dict, log: Path, timeout: float = 120) -> Iterator[subprocess.Popen]:
    process = serve_local(env, log, timeout)
    try:
        yield process
    finally:
        stop(process)


def chat(db_url: str, lines: list[str], *args: str, **env: str) -> str:
    """`policy-bot chat` with these lines typed (then quit); what it printed. The person at the terminal sees
    stderr too: nothing may be there but the conversation's own lines (no log line about the bot's plumbing)."""
    result = run_cli("chat", *args, env={"DATABASE_URL": db_url, **env}, stdin="\n".join([*lines, "quit"]) + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    return result.stdout
