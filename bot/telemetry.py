"""OpenTelemetry traces and metrics, switched on by configuration and free when off.

On when OTEL_EXPORTER_OTLP_ENDPOINT (OTLP over HTTP/protobuf), APPLICATIONINSIGHTS_CONNECTION_STRING (Azure
Monitor, through azure-monitor-opentelemetry) or METRICS_PORT (Prometheus text on a separate port) is set.
When all are unset nothing here imports OpenTelemetry, so start-up time and memory are unchanged.

What is recorded, and what is never recorded:
- spans for each HTTP request to the bot (opentelemetry-instrumentation-aiohttp-server, which Azure Monitor's
  bundle lacks), each call out to Teams, Microsoft Graph and Entra ID (aiohttp client instrumentation, with
  every path segment that could identify a person or a chat replaced by `{id}`), each SQL statement (its
  operation and duration only, never the statement or its values), and each turn, named by its route;
- metrics: turns and their duration per route, database time, outbox waiting/failed/oldest age, questions
  answered and refused in the last 24 hours, escalated questions;
- never message text, names, email addresses, Entra or Teams ids, or conversation ids (tests/test_telemetry.py).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import structlog

from bot.settings import Settings

if TYPE_CHECKING:
    from aiohttp import web

    from bot.router import Router
    from bot.services import Services

log = structlog.get_logger(__name__)
SERVICE_NAME = "genai-policy-bot"

# Path segments kept as they are in outbound URLs; anything else (conversation, user, group, tenant, activity
# ids, mailbox addresses) becomes {id}.
_KNOWN_SEGMENTS = frozenset({
    "v3", "conversations", "activities", "members", "pagedmembers", "teams", "v1.0", "beta", "groups", "users",
    "transitiveMembers", "microsoft.graph.user", "sendMail", "oauth2", "v2.0", "token", "authorize", "common",
    "organizations", "botframework.com", "discovery", "instance", "keys", ".well-known", "openid-configuration",
    "openidconfiguration", "metadata", "msi", "identity", "api", "messages", "healthz", "readyz",
})


def redact_url(url) -> str:
    """scheme://host/known/segments/{id}: no query, no identifiers."""
    text = str(url)
    match = re.match(r"^(https?://[^/?#]+)([^?#]*)", text)
    if not match:
        return "{url}"
    origin, path = match.groups()
    segments = [s if s in _KNOWN_SEGMENTS else "{id}" for s in path.split("/") if s]
    return origin + "/" + "/".join(segments)


def enabled(settings: Settings) -> bool:
    return bool(settings.otlp_endpoint or settings.appinsights_connection_string or settings.metrics_port)


@dataclass
class Snapshot:
    """Figures read from the database every few seconds, for the gauges (whose callbacks cannot await)."""

    outbox_pending: int = 0
    outbox_failed: int = 0
    outbox_oldest_seconds: float = 0.0
    answered_24h: int = 0
    refused_24h: int = 0
    escalated: int = 0
    read: bool = False


@dataclass
class Telemetry:
    settings: Settings
    tracer: object
    meter: object
    prometheus: bool = False
    snapshot: Snapshot = field(default_factory=Snapshot)
    _shutdown: list = field(default_factory=list)
    _tasks: list = field(default_factory=list)

    # ---------- set-up, once per process ----------

    @classmethod
    def start(cls, settings: Settings) -> "Telemetry":
        from opentelemetry.sdk.resources import Resource

        resource = Resource.create({"service.name": SERVICE_NAME})
        tracer_provider, meter_provider = _providers(settings, resource, *_exporters(settings))
        _instrument_http(tracer_provider, meter_provider)
        telemetry = cls(settings, tracer=tracer_provider.get_tracer("policy_bot"),
                        meter=meter_provider.get_meter("policy_bot"), prometheus=bool(settings.metrics_port))
        for provider in (tracer_provider, meter_provider):
            if hasattr(provider, "shutdown"):
                telemetry._shutdown.append(provider.shutdown)
        log.info("telemetry on", otlp=bool(settings.otlp_endpoint), azure_monitor=bool(settings.appinsights_connection_string),
                 prometheus_port=settings.metrics_port or None)
        return telemetry

    # ---------- the app ----------

    def instrument(self, app: "web.Application", router: "Router", services: "Services") -> None:
        from aiohttp import web

        self._instrument_router(router)
        self._instrument_database(services)
        self._gauges()

        async def on_startup(_app: web.Application) -> None:
            self._tasks.append(asyncio.create_task(self._refresh(services), name="telemetry-snapshot"))
            if self.prometheus:
                self._tasks.append(asyncio.create_task(self._serve_prometheus(), name="telemetry-metrics-port"))

        async def on_cleanup(_app: web.Application) -> None:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await asyncio.gather(*(_within(shutdown, seconds=3) for shutdown in self._shutdown))

        app.on_startup.append(on_startup)
        app.on_cleanup.append(on_cleanup)

    def _instrument_router(self, router: "Router") -> None:
        from opentelemetry.trace import Status, StatusCode

        turns = self.meter.create_counter("policy_bot.turns", unit="{turn}", description="Turns handled, by route")
        duration = self.meter.create_histogram("policy_bot.turn.duration", unit="s",
                                               description="Time to handle a turn, by route")
        tracer = self.tracer

        def timed(name, handler):
            async def run(turn, services):
                start = time.perf_counter()
                outcome = "ok"
                with tracer.start_as_current_span(f"turn {name}", attributes={"policy_bot.route": name}) as span:
                    try:
                        await handler(turn, services)
                    except BaseException:
                        outcome = "error"
                        span.set_status(Status(StatusCode.ERROR))  # the exception's text is not recorded
                        raise
                    finally:
                        attributes = {"route": name, "outcome": outcome}
                        turns.add(1, attributes)
                        duration.record(time.perf_counter() - start, attributes)
            return run

        router.routes = [replace(route, handler=timed(route.name, route.handler)) for route in router.routes]

    def _instrument_database(self, services: "Services") -> None:
        """A span and a duration per SQL statement, named by its operation only: never the statement's values.

        (opentelemetry-instrumentation-sqlalchemy declines SQLAlchemy 2.1, and would record whole statements.)"""
        from opentelemetry.trace import SpanKind
        from sqlalchemy import event

        engine = services.db.engine.sync_engine
        histogram = self.meter.create_histogram("policy_bot.db.duration", unit="s",
                                                description="Time spent in database statements")
        system = "sqlite" if services.db.is_sqlite else "postgresql"
        tracer = self.tracer

        @event.listens_for(engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
            operation = statement.lstrip().split(None, 1)[0].upper()[:12] if statement.strip() else "SQL"
            span = tracer.start_span(operation, kind=SpanKind.CLIENT,
                                     attributes={"db.system": system, "db.operation": operation})
            conn.info.setdefault("policy_bot_spans", []).append((span, operation, time.perf_counter()))

        @event.listens_for(engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
            pending = conn.info.get("policy_bot_spans")
            if pending:
                span, operation, started = pending.pop()
                histogram.record(time.perf_counter() - started, {"db.system": system, "db.operation": operation})
                span.end()

        @event.listens_for(engine, "handle_error")
        def failed(context):
            pending = context.connection.info.get("policy_bot_spans") if context.connection is not None else None
            if pending:
                pending.pop()[0].end()

    def _gauges(self) -> None:
        from opentelemetry.metrics import Observation

        snap = lambda: self.snapshot  # noqa: E731

        def gauge(name: str, unit: str, description: str, read):
            self.meter.create_observable_gauge(
                name, callbacks=[lambda _options: [Observation(v, a) for v, a in read(snap())] if snap().read else []],
                unit=unit, description=description)

        gauge("policy_bot.outbox.pending", "{message}", "Proactive messages waiting to be sent",
              lambda s: [(s.outbox_pending, {})])
        gauge("policy_bot.outbox.failed", "{message}", "Proactive messages given up on (policy-bot outbox retry)",
              lambda s: [(s.outbox_failed, {})])
        gauge("policy_bot.outbox.oldest_age", "s", "Age of the oldest message still waiting",
              lambda s: [(s.outbox_oldest_seconds, {})])
        gauge("policy_bot.questions.last_24h", "{question}", "Questions in the last 24 hours, answered or refused",
              lambda s: [(s.answered_24h, {"outcome": "answered"}), (s.refused_24h, {"outcome": "refused"})])
        gauge("policy_bot.escalations.waiting", "{question}", "Questions passed to the governance team, not yet answered",
              lambda s: [(s.escalated, {})])

    async def _refresh(self, services: "Services", every: float | None = None) -> None:
        from sqlalchemy import func, select

        from storage.health import outbox_health
        from storage.models import QuestionRow

        every = every or self.settings.telemetry_refresh_seconds
        while True:
            try:
                health = await outbox_health(services.db)
                since = datetime.now(timezone.utc) - timedelta(hours=24)
                async with services.db.sessions() as session:
                    answered = dict((await session.execute(
                        select(QuestionRow.answered, func.count()).where(QuestionRow.asked_at >= since)
                        .group_by(QuestionRow.answered))).all())
                    escalated = (await session.execute(
                        select(func.count()).where(QuestionRow.escalation_status == "waiting"))).scalar() or 0
                self.snapshot = Snapshot(health.pending, health.failed, health.oldest_pending_seconds,
                                         answered.get(True, 0), answered.get(False, 0), escalated, read=True)
            except Exception as exc:  # the database may be briefly away; the gauges keep their last values
                log.warning("could not read figures for telemetry", error=type(exc).__name__)
            await asyncio.sleep(every)

    async def _serve_prometheus(self) -> None:
        """GET /metrics in Prometheus' text format on METRICS_PORT, apart from the bot's public port."""
        from aiohttp import web
        from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

        async def metrics_page(_request: web.Request) -> web.Response:
            body = await asyncio.to_thread(generate_latest, REGISTRY)
            return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

        app = web.Application()
        app.router.add_get("/metrics", metrics_page)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.settings.host, self.settings.metrics_port).start()
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()


async def _within(function, *, seconds: float) -> None:
    """Run a blocking flush on a daemon thread, waiting at most `seconds`: an unreachable collector must not
    keep the process from stopping."""
    done = threading.Event()

    def run() -> None:
        try:
            function()
        finally:
            done.set()

    threading.Thread(target=run, name="telemetry-shutdown", daemon=True).start()
    await asyncio.to_thread(done.wait, seconds)


_started: Telemetry | None = None


def _exporters(settings: Settings) -> tuple[list, list]:
    """(metric readers, span processors): OTLP over HTTP and/or Prometheus, as configured."""
    readers, processors = [], []
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        base = settings.otlp_endpoint.rstrip("/")
        processors.append(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{base}/v1/metrics")))
    if settings.metrics_port:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader

        readers.append(PrometheusMetricReader())
    return readers, processors


def _providers(settings: Settings, resource, readers: list, processors: list) -> tuple:
    """The process's tracer and meter providers: Azure Monitor's distro when configured, else the SDK's own."""
    from opentelemetry import metrics, trace

    if settings.appinsights_connection_string:
        from azure.monitor.opentelemetry import configure_azure_monitor

        # Its bundle also instruments requests/urllib and exports Python logs (which never hold message text).
        configure_azure_monitor(connection_string=settings.appinsights_connection_string, resource=resource,
                                span_processors=processors, metric_readers=readers, enable_live_metrics=False)
        return trace.get_tracer_provider(), metrics.get_meter_provider()
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

    tracer_provider = TracerProvider(resource=resource)
    for processor in processors:
        tracer_provider.add_span_processor(processor)
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    return tracer_provider, meter_provider


def _instrument_http(tracer_provider, meter_provider) -> None:
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor

    # The server instrumentor patches web.Application, so this runs before the app is built.
    AioHttpServerInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    AioHttpClientInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider,
                                           url_filter=redact_url)


def start_telemetry(settings: Settings) -> Telemetry | None:
    """The process's telemetry, set up on first use; None (and nothing imported) when it is switched off."""
    global _started
    if not enabled(settings):
        return None
    if _started is None:
        _started = Telemetry.start(settings)
    return _started
