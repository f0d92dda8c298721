"""help: the commands as buttons, and to the approvers and the governance and IT security teams, theirs too."""

from __future__ import annotations

from bot.microsoft.approvers import DirectoryUnavailable
from bot.services import Services
from bot.turn import Message, Turn
from cards.help import build_help_card
from dialogs.guards import GOVERNANCE_MEMBERS, TRIAGE_MEMBERS, Membership, is_approver

# Each team of cards.help.TEAM_COMMANDS, and who is in it: the check its routes' guards make.
TEAMS: tuple[tuple[str, Membership], ...] = (
    ("approver", is_approver),
    ("triage", TRIAGE_MEMBERS),
    ("governance", GOVERNANCE_MEMBERS),
)


async def _teams_of(services: Services, user_id: str) -> list[str]:
    teams = []
    for team, members in TEAMS:
        try:
            if await members(services, user_id):
                teams.append(team)
        except DirectoryUnavailable:
            continue  # the help is worth showing without them; the next one will have them
    return teams


async def show_help(turn: Turn, services: Services) -> None:
    teams = await _teams_of(services, turn.incoming.user_id)
    await turn.reply(Message(cards=[build_help_card(set(services.commands), teams=teams)], summary="What I can do"))
