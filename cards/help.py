"""The help card: every command as a button."""

from __future__ import annotations

from dataclasses import dataclass

from cards.common import button, card, heading, para, to_dict
from cards.verbs import VERB_RUN_COMMAND


@dataclass(frozen=True)
class CommandInfo:
    command: str
    title: str
    description: str


COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("help", "Help", "Show what I can do"),
    CommandInfo("tools", "Approved tools", "List the approved AI tools and their conditions"),
    CommandInfo("request tool", "Request a tool", "Ask the governance authority to approve an AI tool"),
    CommandInfo("my requests", "My requests", "See the AI tools you asked for and their decisions"),
    CommandInfo("report incident", "Report an incident", "Report an AI concern, incident or breach"),
    CommandInfo("my reports", "My reports", "See the incidents you reported and their status"),
    CommandInfo("acknowledge", "Acknowledge the policy", "Confirm you have read the current policy"),
    CommandInfo("my status", "My status", "Which policy version you acknowledged, and your open reports"),
    CommandInfo("policy", "Read the policy", "Browse the policy section by section"),
    CommandInfo("ask a person", "Ask a person", "Pass a question to the governance team (type it after the words)"),
)


def help_actions(available: set[str]) -> list:
    return [
        button(info.title, VERB_RUN_COMMAND, {"command": info.command})
        for info in COMMANDS
        if info.command != "help" and info.command in available
    ]


def build_help_card(available: set[str] | None = None) -> dict:
    shown = [info for info in COMMANDS if available is None or info.command in available]
    lines = "\n".join(f"- **{info.command}**: {info.description}" for info in shown)
    body = [
        heading("What I can do"),
        para("Ask me anything about the GenAI policy in your own words, for example *Can I use ChatGPT to draft a letter?*"),
        para(lines),
    ]
    actions = help_actions({info.command for info in shown})
    return to_dict(card(body, actions, fallback_text="Commands: " + ", ".join(info.command for info in shown)))


def build_did_you_mean_card(command: str) -> dict:
    """For a message that was nearly a command (domain/typos.py): that command, one click away."""
    info = next((i for i in COMMANDS if i.command == command), None)
    title = info.title if info else command
    body = [para(f"Did you mean **{command}**? Press the button, or ask your question in a few more words.")]
    return to_dict(card(body, [button(title, VERB_RUN_COMMAND, {"command": command})],
                        fallback_text=f"Did you mean {command}?"))
