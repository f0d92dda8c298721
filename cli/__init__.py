"""The command line, `policy-bot`: the composition root that wires dialogs into the app.

- `main`: the root typer app, which only assembles the command modules, and `main()`, the entry point.
- `common`: what every command shares (`fail`, `settings_or_exit`, `open_database()`, which disposes of the database however the command ends, `audit_trail`).
- `wiring`: the only module that imports `dialogs.routes`: it builds the app and the chat's pipeline.
- `run`: `serve` and `chat`; `serve.py` and `chat.py` hold what they run (the HTTP server, the terminal chat).
- `ask`, `manifest`, `doctor` (its checks are bot/doctor.py): one command each.
- `db`, `policy`, `tools`, `report`: one command group each.
- `outbox`: `outbox` and `remind`; `records`: `audit`, `purge` and `export-user`.

It sits above every other package (domain <- storage, cards <- bot <- dialogs <- cli), so
nothing imports it.
"""
