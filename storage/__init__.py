"""Durable storage: models, migrations, repositories (which return plain objects) and the bot-state store."""
