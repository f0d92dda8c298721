"""The command line, `policy-bot`: the composition root that wires dialogs into the app.

- `main`: the root typer app and `main()`, the console-script entry point.
- `wiring`: the only module that imports `dialogs.routes`: it builds the app and the chat's pipeline.
- `serve`: `policy-bot serve` (the HTTP server) and the start-up checks it runs first.
- `chat`: `policy-bot chat`, the bot in a terminal.
- `doctor`: `policy-bot doctor`, the configuration checklist (its checks are bot/doctor.py).
- `outbox`: the operations commands: `outbox`, `remind`, `report`, `audit`, `purge`, `export-user`.

It sits above every other package (domain <- storage, cards <- bot <- dialogs <- cli), so
nothing imports it.
"""
