"""Reading what a card's form sent: every value may be missing or of any type."""

from __future__ import annotations


def text(values: dict, name: str) -> str:
    """The input's text, trimmed; "" when it is missing or not text."""
    value = values.get(name)
    return value.strip() if isinstance(value, str) else ""
