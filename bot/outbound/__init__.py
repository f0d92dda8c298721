"""Outbound delivery: everything the bot sends that is not the answer to an HTTP request.

- `connector`: the Bot Connector's REST API (send, update, conversation members), on `bot.microsoft.http`.
- `replies`: the producer: a turn's replies go out after the 200, or into the outbox.
- `recipients`: who a notification goes to (a channel, or people 1:1), their roster ids, and the
  notifications addressed to them.
- `worker`: the delivery worker that drains the outbox, and its doorbell.
- `destinations`: where the worker delivers: Teams, or email through Microsoft Graph.
"""
