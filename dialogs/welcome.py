"""First contact: the welcome card when someone first talks to the bot (or it joins a team), then the policy prompt.

The route table hands this to the router as its first-contact hook; the pipeline calls it on
every turn before routing, and it returns whether it welcomed someone.
"""

from __future__ import annotations

from bot.services import Services
from bot.turn import Message, Turn
from cards.welcome import build_team_welcome_text, build_welcome_card
from dialogs.acknowledge import prompt_if_due
from dialogs.rerouting import for_user, reroute_waiting


async def first_contact(turn: Turn, services: Services) -> bool:
    incoming = turn.incoming
    if not incoming.is_personal:
        if incoming.kind == "members_added" and incoming.members_added_bot:
            settings = services.settings
            text = build_team_welcome_text(org_name=settings.org_name, bot_name=incoming.conversation.bot_name or "GenAI Policy",
                                           authority_name=settings.genai_authority_name,
                                           authority_contact=settings.genai_authority_contact)
            await turn.reply(Message(text=text, summary="GenAI policy assistant added"))
            return True
        return False
    if incoming.kind == "members_added" and not incoming.members_added_bot:
        return False
    is_new = await services.users.needs_welcome(
        incoming.user_id, name=incoming.user_name, teams_user_id=incoming.user_teams_id, tenant_id=incoming.tenant_id
    )
    if is_new:
        await turn.reply(Message(cards=[_welcome(services)], summary="Welcome to the GenAI policy assistant"))
        await prompt_if_due(turn, services)
        await reroute_waiting(services, for_user(incoming.user_id))  # cards that waited for their first chat
    return is_new


async def about_me(turn: Turn, services: Services) -> None:
    """A question about the bot itself ("are you a real person?"): what it is, how it works and how to reach a person
    (policy 9.1), the same card as the welcome."""
    await turn.reply(Message(cards=[_welcome(services)], summary="About the GenAI policy assistant"))


def _welcome(services: Services) -> dict:
    settings = services.settings
    return build_welcome_card(
        org_name=settings.org_name,
        authority_name=settings.genai_authority_name,
        authority_contact=settings.genai_authority_contact,
        commands=set(services.commands),
    )
