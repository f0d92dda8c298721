"""The help card: every command as a button."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

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


# What a team's members may also do: on the help card of those members only (dialogs/help.py asks who is which).
TEAM_COMMANDS: dict[str, tuple[CommandInfo, ...]] = {
    "approver": (
        CommandInfo("pending requests", "Requests waiting", "Approvers: the tool requests waiting for a decision, oldest first"),
        CommandInfo("open request", "Open a request", "Approvers: a request's card again (open request REQ-YYYY-NNNN)"),
    ),
    "triage": (
        CommandInfo("open incidents", "Open incidents", "Triage teams: the incidents not resolved, most urgent first"),
        CommandInfo("open incident", "Open an incident", "Triage teams: an incident's card again (open incident INC-YYYY-NNNN)"),
    ),
    "governance": (
        CommandInfo("questions", "Questions report", "Governance: what staff asked, and the escalations waiting"),
        CommandInfo("open question", "Open a question", "Governance: a passed-on question's card again (open question Q-YYYY-NNNN)"),
        CommandInfo("report", "Acknowledgement report", "Governance: who has acknowledged the current policy"),
    ),
}


def help_actions(available: set[str]) -> list:
    return [
        button(info.title, VERB_RUN_COMMAND, {"command": info.command})
        for info in COMMANDS
        if info.command != "help" and info.command in available
    ]


def _lines(commands: Sequence[CommandInfo]) -> str:
    return "\n".join(f"- **{info.command}**: {info.description}" for info in commands)


def build_help_card(available: set[str] | None = None, *, teams: Sequence[str] = ()) -> dict:
    """`teams`: those the person is a member of (TEAM_COMMANDS' keys), whose commands are listed too."""
    shown = [info for info in COMMANDS if available is None or info.command in available]
    body = [
        heading("What I can do"),
        para("Ask me anything about the GenAI policy in your own words, for example *Can I use ChatGPT to draft a letter?*"),
        para(_lines(shown)),
    ]
    for_team = [info for team in teams for info in TEAM_COMMANDS[team] if available is None or info.command in available]
    if for_team:
        body.append(para("**For your team**:\n" + _lines(for_team)))
    actions = help_actions({info.command for info in shown})
    return to_dict(card(body, actions, fallback_text="Commands: " + ", ".join(info.command for info in shown)))


def build_did_you_mean_card(command: str) -> dict:
    """For a message that was nearly a command (domain/typos.py): that command, one click away."""
    info = next((i for i in COMMANDS if i.command == command), None)
    title = info.title if info else command
    body = [para(f"Did you mean **{command}**? Press the button, or ask your question in a few more words.")]
    return to_dict(card(body, [button(title, VERB_RUN_COMMAND, {"command": command})],
                        fallback_text=f"Did you mean {command}?"))
