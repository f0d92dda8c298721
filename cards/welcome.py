"""First contact (policy 9.1): what the bot is, what it can't do, and how to reach a person."""

from __future__ import annotations

from cards.common import card, heading, para, to_dict
from cards.help import help_actions


def build_welcome_card(*, org_name: str, authority_name: str, authority_contact: str, commands: set[str]) -> dict:
    body = [
        heading(f"Hello, I'm the {org_name} GenAI policy assistant"),
        para(
            f"I help you follow {org_name}'s policy on using generative AI. I can answer questions about the "
            "policy by quoting it, with section numbers, and tell you whether an AI tool is approved."
        ),
        para(
            "**How I work:** I am not a generative AI. I find and quote passages from the current policy and "
            "the approved-tools register; I don't write answers of my own or send what you type to any AI service.",
        ),
        para(
            "**What I can't do:** give legal advice, approve anything myself, or answer questions the policy "
            "doesn't cover. Please don't paste personal or confidential information here."
        ),
        para(f"**To reach a person:** contact {authority_name} at {authority_contact}."),
    ]
    return to_dict(card(body, help_actions(commands), fallback_text=f"Welcome to the {org_name} GenAI policy assistant."))


def build_team_welcome_text(*, org_name: str, bot_name: str, authority_name: str, authority_contact: str) -> str:
    """A short hello in the team's General channel: the personal welcome is for each person's own chat."""
    return (
        f"Hello, I'm the {org_name} GenAI policy assistant. I quote {org_name}'s policy on generative AI, with "
        f"section numbers, and say whether an AI tool is approved. I am not a generative AI.\n\n"
        f"Here, mention me with a question, for example: **@{bot_name} can I use Copilot to take minutes?** "
        f"For tool requests, incident reports and acknowledging the policy, chat with me 1:1.\n\n"
        f"To reach a person: {authority_name} at {authority_contact}."
    )
