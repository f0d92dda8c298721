"""What the tests share, besides fixtures (those are in tests/conftest.py).

- `activities`: Teams-shaped activities (captured from Microsoft's local client), pointed at a fake connector.
- `connector`: the one fake Bot Connector (Teams' service URL), in the test's event loop or in a thread of its own.
- `microsoft`: the one fake Microsoft: Entra ID token endpoint, managed identity, Graph, and the channel's
  OpenID metadata and signing keys.
- `bots`: settings for tests, and the real app on a loopback port (`running_bot`).
- `servers`: any fake service (an aiohttp app) on a loopback port, over HTTPS with a test CA if asked.
- `legacy_audit`: the audit chain as older releases wrote it.
- `processes`: the `policy-bot` command: run it, or serve `policy-bot serve --local` and wait for /healthz.

`tests/` is on `sys.path` (pytest's rootdir insertion), so tests import these as `from support.… import …`.
"""
