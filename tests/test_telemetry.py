"""Telemetry through the real path: the bot as a server process exporting OTLP/HTTP to a loopback receiver that
records and decodes what arrives, Prometheus text on its own port, and no personal data in any of it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import aiohttp
import pytest
from aiohttp import web
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from bot.telemetry import redact_url
from support.activities import message
from support.processes import free_port, serve_local
from support.servers import serving

SECRET_TEXT = "Can I paste Jane Threadneedle's case notes (SECRET-PHRASE-4711) into ChatGPT?"
USER = "aad-7c1f-telemetry-person"
CONVERSATION = "a:1personal-chat-telemetry-XYZ"


class Receiver:
    """An OTLP/HTTP collector on loopback: decodes each protobuf export and keeps it as JSON."""

    def __init__(self) -> None:
        self.spans: list[dict] = []
        self.metrics: list[dict] = []
        self.raw: list[bytes] = []
        self.url = ""

    async def traces(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.raw.append(body)
        assert request.content_type == "application/x-protobuf"
        export = MessageToDict(ExportTraceServiceRequest.FromString(body))
        for resource in export.get("resourceSpans", []):
            for scope in resource.get("scopeSpans", []):
                self.spans.extend(scope.get("spans", []))
        return web.Response(body=b"", content_type="application/x-protobuf")

    async def metrics_(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.raw.append(body)
        export = MessageToDict(ExportMetricsServiceRequest.FromString(body))
        for resource in export.get("resourceMetrics", []):
            for scope in resource.get("scopeMetrics", []):
                self.metrics.extend(scope.get("metrics", []))
        return web.Response(body=b"", content_type="application/x-protobuf")

    def metric_names(self) -> set[str]:
        return {m["name"] for m in self.metrics}

    def points(self, name: str) -> list[dict]:
        found = []
        for metric in self.metrics:
            if metric["name"] == name:
                for kind in ("sum", "gauge", "histogram"):
                    found.extend(metric.get(kind, {}).get("dataPoints", []))
        return found


@pytest.fixture
async def receiver():
    fake = Receiver()
    app = web.Application()
    app.router.add_post("/v1/traces", fake.traces)
    app.router.add_post("/v1/metrics", fake.metrics_)
    async with serving(app) as fake.url:
        yield fake


def attributes(item: dict) -> dict:
    return {a["key"]: next(iter(a["value"].values()), None) for a in item.get("attributes", [])}


async def wait_until(condition, timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_traces_and_metrics_reach_an_otlp_receiver_without_personal_data(tmp_path, receiver, connector):
    port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "DATABASE_URL", "OTEL_", "APPLICATIONINSIGHTS"))}
    env.update({
        "HOST": "127.0.0.1", "PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", "LOG_LEVEL": "WARNING",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_METRIC_EXPORT_INTERVAL": "300", "OTEL_BSP_SCHEDULE_DELAY": "100",
        "METRICS_PORT": str(metrics_port), "TELEMETRY_REFRESH_SECONDS": "0.2", "NO_PROXY": "127.0.0.1,localhost",
    })
    process = await asyncio.to_thread(serve_local, env, tmp_path / "server.log")
    try:
        async with aiohttp.ClientSession() as session:
            for text in ("help", SECRET_TEXT, "tools"):
                body = message(connector, text, user=USER, conversation_id=CONVERSATION)
                async with session.post(f"http://127.0.0.1:{port}/api/messages", json=body) as response:
                    assert response.status in (200, 201, 202), await response.text()
            await connector.wait_for(4, timeout=20)  # welcome, then an answer to each

            await wait_until(lambda: any(s["name"].startswith("turn qa") for s in receiver.spans)
                             and any(attributes(s).get("policy_bot.route") == "help" for s in receiver.spans))
            await wait_until(lambda: {"policy_bot.turns", "policy_bot.turn.duration", "policy_bot.db.duration",
                                      "policy_bot.outbox.pending", "policy_bot.outbox.failed",
                                      "policy_bot.outbox.oldest_age", "policy_bot.questions.last_24h",
                                      "policy_bot.escalations.waiting"} <= receiver.metric_names())
            await wait_until(lambda: any(attributes(p).get("outcome") == "answered" and int(p.get("asInt", 0)) >= 1
                                         for p in receiver.points("policy_bot.questions.last_24h")))

            # Prometheus text on its own port, and not on the bot's public one.
            async with session.get(f"http://127.0.0.1:{metrics_port}/metrics") as response:
                assert response.status == 200
                prometheus = await response.text()
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 404
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError("the server did not stop within 20 s of SIGTERM:\n" + (tmp_path / "server.log").read_text()[-3000:])

    names = {s["name"] for s in receiver.spans}
    kinds = {s.get("kind") for s in receiver.spans}
    assert "POST /api/messages" in names  # the aiohttp server span
    assert "SPAN_KIND_SERVER" in kinds and "SPAN_KIND_CLIENT" in kinds
    outbound = [attributes(s) for s in receiver.spans if s.get("kind") == "SPAN_KIND_CLIENT"
                and any(k in attributes(s) for k in ("http.url", "url.full"))]
    urls = {a.get("http.url") or a.get("url.full") for a in outbound}
    assert f"{connector.url}/v3/conversations/{{id}}/activities" in urls, urls  # the reply to Teams, redacted
    database = [attributes(s) for s in receiver.spans if "db.operation" in attributes(s)]
    assert {"SELECT", "INSERT"} <= {a["db.operation"] for a in database}
    assert all(set(a) == {"db.system", "db.operation"} for a in database)  # never the statement or its values
    routes = {attributes(p).get("route") for p in receiver.points("policy_bot.turns")}
    assert {"help", "tools"} <= routes and any(r and r.startswith("qa") for r in routes)
    assert "policy_bot_turns_total" in prometheus and "policy_bot_outbox_pending" in prometheus

    # Nothing personal: not the question, not the name in it, not the user's ids or name, not the chat's id.
    everything = json.dumps([receiver.spans, receiver.metrics]) + prometheus
    raw = b"".join(receiver.raw)
    for secret in ("SECRET-PHRASE-4711", "Threadneedle", "case notes", USER, f"User {USER}", CONVERSATION,
                   f"29:{USER}"):
        assert secret not in everything, secret
        assert secret.encode() not in raw, secret


def test_redacted_urls_keep_the_shape_and_lose_the_identifiers():
    assert redact_url("https://smba.trafficmanager.net/emea/v3/conversations/a:1xyz/activities/1234?x=1") == \
        "https://smba.trafficmanager.net/{id}/v3/conversations/{id}/activities/{id}"
    assert redact_url("https://graph.microsoft.com/v1.0/users/ai-bot@council.gov.uk/sendMail") == \
        "https://graph.microsoft.com/v1.0/users/{id}/sendMail"
    assert redact_url("https://graph.microsoft.com/v1.0/groups/aaaa-bbbb/transitiveMembers/microsoft.graph.user?$top=999") == \
        "https://graph.microsoft.com/v1.0/groups/{id}/transitiveMembers/microsoft.graph.user"


def test_with_telemetry_off_nothing_of_opentelemetry_is_imported(tmp_path):
    script = (
        "import sys\n"
        "from bot.settings import Settings\n"
        "from cli.wiring import create_app\n"
        f"create_app(Settings(_env_file=None, database_url='sqlite:///{tmp_path}/b.db'))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry', 'azure.monitor', 'prometheus_client'))))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "APPLICATIONINSIGHTS", "METRICS_PORT"))}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
