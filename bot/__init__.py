"""The Teams edge and turn handling. Nothing here imports a dialog: cli/wiring.py hands in the route table.

- `app`: the aiohttp application (/api/messages, /healthz, /readyz), the clients it opens, and what runs
  beside it (the delivery worker, a turn's replies, the hourly schedule), stopped in order.
- `adapter`: Teams' HTTP protocol in (authentication, limits), our `Incoming` out; with
  `activity_body` (reading and checking the body), `activity` (the activity read into `Incoming`),
  `channel_auth` (only the Teams channel's tokens) and `service_urls` (where the bot may send).
- `signing_keys`: Microsoft's token-signing keys, cached without blocking the event loop.
- `turn`: what a handler sees of a turn (`Incoming`, `Turn`, `Message`); no Bot Framework types.
- `router`: the (selector, handler) table type; the table itself is `dialogs/routes.py`.
- `pipeline`: one turn, start to end (remember the conversation, first contact, route, fail politely).
- `services`: everything a handler may use, built once from settings and frozen.
- `settings`, `logs`, `library` (the current policy and tool register, kept warm).
- `database` (opening the database, with an Entra ID token if configured), `telemetry` (OpenTelemetry,
  off unless configured), `doctor` (the configuration checks behind `policy-bot doctor`).
- `outbound/`: everything sent outside a turn's HTTP response (connector, replies, outbox worker).
- `microsoft/`: Microsoft identity, the one HTTP client for Microsoft's services, Graph and approvers.
"""
