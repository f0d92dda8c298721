"""Throughput and latency of /api/messages: our bot beside botbuilder's reference EchoBot.

    python scripts/bench_http.py [--messages 600] [--concurrency 1 8 32] [--connector-delay 0.1] [--users 200]

Both bots run as their own server processes on loopback (our bot in local mode with SQLite).
This process sends Teams-shaped personal messages and plays the Bot Connector, answering each
reply after --connector-delay seconds and counting the TCP connections replies arrive on.

Messages rotate over --users people, each in their own 1:1 chat. The bot sends one conversation's
replies one after another, in order, so with few users the fake connector's delay, not the bot,
sets the pace: 20 users and 100 ms allow at most 200 replies a second, however fast the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict, deque
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
ACTIVITY = json.loads((ROOT / "tests/fixtures/teams-activities.json").read_text())["message-personal"]
QUESTIONS = [q["q"] for q in yaml.safe_load((ROOT / "tests/eval/questions.yaml").read_text())["in_scope"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Connector:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.replies = 0
        self.peers: set = set()
        # Questions awaiting their answer, per conversation, oldest first: each question gets one reply and
        # replies keep their conversation's order, so the next reply answers the oldest question.
        self.waiting: dict[str, deque] = defaultdict(deque)
        self.reply_latencies: list[float] = []

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        conversation = request.path.split("/")[3] if request.path.startswith("/v3/conversations/") else ""
        if self.waiting.get(conversation):
            self.reply_latencies.append(time.perf_counter() - self.waiting[conversation].popleft())
        self.peers.add(request.transport.get_extra_info("peername"))
        await asyncio.sleep(self.delay)
        self.replies += 1
        return web.json_response({"id": str(self.replies)})


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.post(url, data=b"{}", headers={"Content-Type": "application/json"}) as r:
                    if r.status < 500 or r.status == 500:
                        return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


async def run_load(url: str, service_url: str, total: int, concurrency: int, users: int,
                   waiting: dict[str, deque] | None = None) -> list[float]:
    """HTTP latencies; with `waiting`, each question's send time is queued for the connector to match."""
    latencies: list[float] = []
    queue: asyncio.Queue = asyncio.Queue()
    for n in range(total):
        queue.put_nowait(n)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            activity = json.loads(json.dumps(ACTIVITY))
            user = f"bench-user-{n % users}"
            activity.update(id=str(uuid.uuid4()), serviceUrl=service_url, text=QUESTIONS[n % len(QUESTIONS)])
            activity["from"] = {"id": f"29:{user}", "aadObjectId": user, "name": user}
            activity["conversation"] = {**activity["conversation"], "id": f"a:{user}"}
            started = time.perf_counter()
            if waiting is not None:
                waiting[f"a:{user}"].append(started)
            async with session.post(url, json=activity) as response:
                await response.read()
                assert response.status in (200, 201), response.status
            latencies.append((time.perf_counter() - started) * 1000)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*[worker(session) for _ in range(concurrency)])
    return latencies


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def bench(name: str, command: list[str], port: int, args, env: dict) -> None:
    connector = Connector(args.connector_delay)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", connector.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    connector_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", connector_port).start()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api/messages"
    try:
        await wait_ready(url)
        await asyncio.sleep(1.0)
        idle = rss_mb(process.pid)
        service_url = f"http://127.0.0.1:{connector_port}"
        await run_load(url, service_url, max(40, args.users), 4, args.users)  # warm up: first contact, caches
        for concurrency in args.concurrency:
            connector.replies, connector.peers = 0, set()
            cpu_before = cpu_seconds(process.pid)
            connector.waiting.clear()
            connector.reply_latencies = []
            started = time.perf_counter()
            latencies = await run_load(url, service_url, args.messages, concurrency, args.users, connector.waiting)
            # Throughput counts a message once its reply has reached the connector, not when the request returned.
            deadline = time.perf_counter() + 60
            while len(connector.reply_latencies) < args.messages and time.perf_counter() < deadline:
                await asyncio.sleep(0.005)
            elapsed = time.perf_counter() - started
            answered = connector.reply_latencies
            await asyncio.sleep(args.connector_delay * 3)
            cpu = cpu_seconds(process.pid) - cpu_before
            latencies.sort()
            answered.sort()
            print(
                f"{name:<12} c={concurrency:<3} {args.messages / elapsed:7.1f} msg/s  "
                f"http p50 {statistics.median(latencies):6.1f} ms  p95 {latencies[int(len(latencies) * 0.95) - 1]:6.1f} ms  "
                f"reply p50 {statistics.median(answered) * 1000:6.1f} ms  p95 {answered[int(len(answered) * 0.95) - 1] * 1000:6.1f} ms  "
                f"cpu {cpu / args.messages * 1000:5.1f} ms/msg  replies {connector.replies:<5} unanswered {args.messages - len(answered):<3} "
                f"connections {len(connector.peers):<4} idle rss {idle:.0f} MB",
                flush=True,
            )
    finally:
        process.terminate()
        process.wait(10)
        await runner.cleanup()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--connector-delay", type=float, default=0.1)
    parser.add_argument("--users", type=int, default=200)
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        env = {**os.environ, "PORT": str(port), "DATABASE_URL": f"sqlite:///{data}/bench.db", "LOG_LEVEL": "WARNING"}
        await bench("policy-bot", [str(bin_dir / "policy-bot"), "serve", "--local"], port, args, env)
    port = free_port()
    await bench("echobot-ref", [sys.executable, str(ROOT / "scripts/echobot_reference.py"), str(port)], port, args, dict(os.environ))


if __name__ == "__main__":
    asyncio.run(main())
