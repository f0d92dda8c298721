"""Conversation behaviour: what the bot does for each command, card button and message.

`routes.py` is where to start: it lists every route, and each route names its handler in one
of the modules here (help, admin, tools, approvals, incidents, acknowledge, qa). `reminders.py`
holds the acknowledgement reminder rounds, `welcome.py` the first contact, `guards.py` who may use a
route and the one way a refusal is answered. Handlers get a plain `bot.turn.Turn` and the
`bot.services.Services`, never a Bot Framework `TurnContext`.
"""
