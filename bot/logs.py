"""Structured logs to stderr: readable on a terminal, JSON lines in production.

Handlers log events and ids, never message text or secrets. What libraries might log is kept out too:
database drivers log every statement's parameters at DEBUG (aiosqlite does), SQLAlchemy puts them in its
error messages unless the engine hides them (storage/db.py does), and a traceback's local variables hold
whatever the turn was handling, so tracebacks are printed without them."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    json_lines = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = (structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(
        colors=False, exception_formatter=structlog.dev.RichTracebackFormatter(color_system=None, show_locals=False)))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *([structlog.processors.format_exc_info] if json_lines else []),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The SDK and HTTP clients are chatty at INFO and may echo URLs or payloads; database drivers log
    # statements with their parameters. At every level, including DEBUG, they say only what went wrong.
    for noisy in ("aiohttp.access", "msrest", "azure", "botbuilder", "botframework", "urllib3", "asyncio", "alembic",
                  "sqlalchemy", "aiosqlite", "asyncpg"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
