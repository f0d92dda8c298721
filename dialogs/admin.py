"""register governance / register security: an admin names the channel where cards go (the route is ADMINS_ONLY)."""

from __future__ import annotations

from dataclasses import replace

from bot.services import Services
from bot.turn import Turn
from dialogs.rerouting import for_team, reroute_waiting
from storage.channels import PURPOSES


async def register_channel(turn: Turn, services: Services) -> None:
    incoming = turn.incoming
    purpose = turn.argument.lower()
    if purpose not in PURPOSES:
        await turn.reply("Register what? Use **register governance** or **register security** in the channel you mean.")
        return
    if incoming.conversation.kind != "channel":
        await turn.reply(f"Please use this command in the team channel you want {purpose} cards posted to, and mention me.")
        return
    conversation = incoming.conversation
    # Post new threads at channel level, not inside the thread the command was typed in.
    channel_id = conversation.teams_channel_id or conversation.id.split(";messageid=")[0]
    await services.channels.register(purpose, replace(conversation, id=channel_id), by=incoming.user_id)
    rerouted = await reroute_waiting(services, for_team(purpose))
    waiting, count = rerouted.channel_text(), sum(rerouted.to_channel.values())
    posting = f" {waiting[0].upper()}{waiting[1:]} {'is' if count == 1 else 'are'} being posted here now." if count else ""
    await turn.reply(f"Done: this channel is now where **{purpose}** cards are posted.{posting}")
