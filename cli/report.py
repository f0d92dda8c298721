"""`policy-bot report`: reports for the governance team and auditors."""

from __future__ import annotations

import asyncio
import getpass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from cli.common import audit_trail, open_database, settings_or_exit


app = typer.Typer(no_args_is_help=True, help="Reports for the governance team and auditors.")


def utc_iso(at: datetime) -> str:
    """A time with its zone, e.g. 2026-11-25T21:27:03+00:00 (SQLite hands times back without one; they are UTC)."""
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")


@app.command("acknowledgements")
def report_acknowledgements(csv_path: Optional[Path] = typer.Option(None, "--csv", help="Write one row per known person")) -> None:
    """Who has acknowledged the current policy version (and when), for audits."""
    settings = settings_or_exit()
    import csv

    from storage.acknowledgements import AcknowledgementRepository
    from storage.policies import PolicyRepository

    async def run():
        async with open_database(settings, migrate=settings.is_sqlite) as db:
            audit = audit_trail(db, settings)
            current = await PolicyRepository(db, audit).current()
            rows = await AcknowledgementRepository(db, audit).report(current.id if current else None)
            await audit.append(f"cli:{getpass.getuser()}", "report.exported", "report:acknowledgements",
                               {"rows": len(rows), "file": str(csv_path) if csv_path else None})
        return current, rows

    current, rows = asyncio.run(run())
    done = sum(r.current_acknowledged for r in rows)
    label = current.label if current else "none"
    if csv_path:
        with csv_path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["user_id", "name", "latest_version", "acknowledged_at", "current_acknowledged"])
            for r in rows:
                writer.writerow([r.user_id, r.name or "", r.latest_version or "",
                                 utc_iso(r.acknowledged_at) if r.acknowledged_at else "",
                                 "true" if r.current_acknowledged else "false"])
        typer.echo(f"wrote {len(rows)} rows to {csv_path}", err=True)
    typer.echo(f"current version {label}: {done} of {len(rows)} known people acknowledged")
