"""Microsoft identity and Graph: who the bot is, and what it asks Microsoft.

- `credentials`: the bot's own identity (client secret, certificate or managed identity),
  the certificate authorities it trusts (`ssl_context`) and the proxy it goes through (`Proxies`).
- `http`: the one HTTP client (a pooled aiohttp session) for the Bot Connector and Graph, its typed
  errors and retry backoff.
- `graph`: calls to Microsoft Graph (mail, group members).
- `approvers`: who may decide tool requests: APPROVER_IDS plus the members of an Entra group.
"""
