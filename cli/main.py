"""`policy-bot`: the root command. Each command group lives in its own module; this one only assembles them.

Commands are registered here in the order `policy-bot --help` lists them. Every module it imports
keeps its heavy imports inside the commands, so `policy-bot --help` stays quick.
"""

from __future__ import annotations

import typer

from cli import ask, db, doctor, manifest, outbox, policy, qa, records, report, run, tools

app = typer.Typer(add_completion=False, no_args_is_help=True, help="GenAI policy assistant for Microsoft Teams.")
app.command()(run.serve)
app.command()(run.chat)
app.command()(ask.ask)
app.command()(manifest.manifest)
app.command()(outbox.outbox)
app.command()(outbox.remind)
app.command()(records.purge)
app.command("export-user")(records.export_user)
app.command()(doctor.doctor)
app.add_typer(db.app, name="db")
app.add_typer(policy.app, name="policy")
app.add_typer(tools.app, name="tools")
app.add_typer(qa.app, name="qa")
app.add_typer(report.app, name="report")
app.add_typer(records.audit, name="audit")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
