"""Microsoft identity and Graph: who the bot is, and what it asks Microsoft.

- `credentials`: the bot's own identity (client secret, certificate or managed identity),
  the certificate authorities it trusts (`ssl_context`) and the proxy it goes through (`Proxies`).
- `graph`: calls to Microsoft Graph (mail, group members).
- `approvers`: who may decide tool requests: APPROVER_IDS plus the members of an Entra group.
"""
