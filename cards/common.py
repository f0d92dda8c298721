"""Shared pieces for card builders: serialisation, escaping, and common elements."""

from __future__ import annotations

import re

from microsoft_teams.cards import AdaptiveCard, CardElement, ExecuteAction, RefreshDefinition, ShowCardAction, TextBlock

CARD_VERSION = "1.5"
MAX_REFRESH_USERS = 60  # Teams refreshes a card automatically for at most 60 users

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|>~])")


def safe(text: str | None) -> str:
    """User-supplied text shown as itself: no markdown, links or <at> mentions can be injected."""
    if not text:
        return ""
    text = text.replace("<", "\uff1c").replace(">", "\uff1e")  # full-width lookalikes defuse <at>…</at>
    return _MARKDOWN.sub(r"\\\1", text)


def to_dict(card: AdaptiveCard) -> dict:
    data = card.model_dump(exclude_none=True)
    data["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json"
    return data


def card(
    body: list[CardElement], actions: list | None = None, *, fallback_text: str | None = None,
    refresh: RefreshDefinition | None = None,
) -> AdaptiveCard:
    return AdaptiveCard(
        version=CARD_VERSION,
        body=body,
        actions=actions or None,
        fallback_text=fallback_text,
        msteams={"width": "full"},
        refresh=refresh,
    )


def heading(text: str) -> TextBlock:
    return TextBlock(text=text, weight="Bolder", size="Medium", wrap=True, style="heading")


def para(text: str, *, subtle: bool = False, spacing: str | None = None, color: str | None = None) -> TextBlock:
    return TextBlock(text=text, wrap=True, is_subtle=subtle or None, spacing=spacing, color=color)


def button(title: str, verb: str, data: dict | None = None, *, style: str | None = None) -> ExecuteAction:
    return ExecuteAction(title=title, verb=verb, data={"verb": verb, **(data or {})}, style=style)


def form_button(title: str, inputs: list[CardElement], submit: str, verb: str, data: dict) -> ShowCardAction:
    """A button that opens a small form under the card, sent with its own button."""
    inner = AdaptiveCard(version=CARD_VERSION, body=inputs,
                         actions=[ExecuteAction(title=submit, verb=verb, data={"verb": verb, **data})])
    return ShowCardAction(title=title, card=inner)


def refresh_for(verb: str, data: dict, user_ids: list[str] | None) -> RefreshDefinition:
    """Teams asks the bot for each of these people's own view of the card (Universal Actions)."""
    return RefreshDefinition(action=ExecuteAction(title="Refresh", verb=verb, data={"verb": verb, **data}),
                             user_ids=user_ids[:MAX_REFRESH_USERS] if user_ids is not None else None)


def with_notice(card: dict, text: str, *, then: str = "") -> dict:
    """The same card with a warning line at the top (a stale click, a refused change). `text` is shown as itself;
    `then`, card text of ours (a {{DATE()}}, say), follows it as it is."""
    card["body"].insert(0, {"type": "TextBlock", "wrap": True, "color": "Attention", "text": safe(text) + then})
    return card


def notice_card(title: str, text: str, actions: list | None = None) -> dict:
    return to_dict(card([heading(title), para(text)], actions, fallback_text=f"{title}: {text}"))


def field_error(errors: dict, name: str) -> list:
    """The problem with one form input, shown right under it."""
    return [para(f"⚠ {safe(errors[name])}", color="Attention", spacing="None")] if name in errors else []


def typed(values: dict | None, name: str) -> str | None:
    """What the user typed into an input, to put back in the form; None for nothing (or not text)."""
    value = (values or {}).get(name)
    return value if isinstance(value, str) and value else None


def form_notice(*, shortened: bool, errors: dict) -> list:
    """The line above a form that comes back: answers cut to fit, or problems to fix (nothing typed is lost)."""
    if shortened:
        return [para("Some answers were far longer than the form allows, so only their beginnings are shown below. "
                     "Please check them.", color="Attention")]
    if errors:
        return [para("Please check the highlighted answers below. Everything you typed is still here.", color="Attention")]
    return []
