"""Messages that could not be routed when they were written, routed again once they can be.

A triage card with no channel registered and no GOVERNANCE_IDS, or a card for someone who had not opened
a chat with the bot yet, is stored addressed to "unreachable:<name>" (bot.outbound.recipients.nowhere).
It is routed again when an admin registers a channel, when that person first writes to the bot, when
`policy-bot outbox retry` runs, when the service starts (the ids may have been set), and when a delivery
worker meets one that was requeued. Cards are drawn again for where they now go: a channel card with its
refresh list, a person's card with their buttons, and the record as it stands now.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

import structlog

from bot.microsoft.approvers import DirectoryUnavailable
from bot.outbound.recipients import Recipient, nowhere, person, team, teams_ids_for
from bot.services import Services
from bot.turn import Message
from dialogs.approvals import _card_for
from dialogs.incidents import _dpo_told, _refresh_ids, _triage_message
from domain.records import UNREACHABLE, ConversationRef, Notification, OutboxEntry

log = structlog.get_logger(__name__)

TEAMS = ("governance", "security")
KINDS = {"incident": ("incident card", "incident cards"), "approval": ("tool request card", "tool request cards")}


class Unroutable(Exception):
    """Still nowhere to send it; the message says why."""


@dataclass
class Rerouted:
    """What a round of rerouting did."""

    to_channel: Counter = field(default_factory=Counter)  # per kind ("incident card"), posted to a channel
    to_people: int = 0  # sent to people 1:1
    for_first_chat: int = 0  # now addressed to people who have not opened a chat with the bot yet
    still: list[str] = field(default_factory=list)  # why the rest still can't go

    def channel_text(self) -> str:
        """"3 waiting incident cards and 1 waiting tool request card", or ""."""
        parts = [f"{count} waiting {KINDS.get(kind, (kind, kind + 's'))[count != 1]}"
                 for kind, count in sorted(self.to_channel.items())]
        if len(parts) < 2:
            return "".join(parts)
        return ", ".join(parts[:-1]) + " and " + parts[-1]


def name_of(entry: OutboxEntry) -> str:
    return entry.conversation.id.removeprefix(UNREACHABLE)


def for_user(user_id: str) -> Callable[[str], bool]:
    """Entries waiting for this person, whatever team they were written for."""
    return lambda name: name == user_id or name.split(":", 1)[-1] == user_id


def for_team(purpose: str) -> Callable[[str], bool]:
    return lambda name: name.split(":", 1)[0] == purpose


async def reroute_waiting(services: Services, wanted: Callable[[str], bool] = lambda name: True, *,
                          entry_id: int | None = None) -> Rerouted:
    """Route again every waiting entry whose recipient name is `wanted` (or the one with `entry_id`)."""
    done = Rerouted()
    for entry in await services.outbox.waiting(entry_id):
        if not wanted(name_of(entry)):
            continue
        try:
            notes = await resolve(services, entry)
        except Unroutable as problem:
            done.still.append(str(problem))
            await services.outbox.still_unroutable(entry, str(problem))
            continue
        if await services.outbox.reroute(entry, notes):
            _count(done, entry, notes)
    if done.to_channel or done.to_people:
        services.deliver_soon()
    return done


async def reroute_entry(services: Services, entry: OutboxEntry) -> str | None:
    """For a delivery worker that claimed an unroutable entry: None once it is on its way, or why not."""
    try:
        notes = await resolve(services, entry)
    except Unroutable as problem:
        return str(problem)
    await services.outbox.reroute(entry, notes)
    return None


async def reroute_at_start(services: Services) -> None:
    """When the service starts, ids may have been set since the entries were written."""
    try:
        done = await reroute_waiting(services)
    except Exception:  # rerouting is a catch-up: the service starts whatever happens here
        log.exception("could not route the waiting messages again")
        return
    if done.to_channel or done.to_people:
        log.info("routed waiting messages again", to_channels=sum(done.to_channel.values()), to_people=done.to_people)


def _count(done: Rerouted, entry: OutboxEntry, notes: list[Notification]) -> None:
    kind = entry.key.split(":", 1)[0]
    for note in notes:
        if note.undeliverable:
            done.for_first_chat += 1
            continue
        if note.conversation.kind == "channel":
            done.to_channel[kind if ":card:" in entry.key else "message"] += 1
        else:
            done.to_people += 1


async def resolve(services: Services, entry: OutboxEntry) -> list[Notification]:
    """The entry's messages to where they can go now; raises Unroutable if they still can't go anywhere."""
    name = name_of(entry)
    purpose, _, user = name.partition(":")
    if purpose in TEAMS and not user:
        recipients = await team(services, purpose, await _team_ids(services, entry.key, purpose))
    elif purpose in (*TEAMS, "dpo") and user:
        recipient = await person(services, name, user)
        channel = await services.channels.get(purpose) if recipient.conversation is None and purpose in TEAMS else None
        recipients = [Recipient(purpose, channel) if channel else recipient]
    else:
        recipients = [await person(services, name, name)]
    if [r.name for r in recipients] == [name] and recipients[0].conversation is None:
        raise Unroutable(recipients[0].problem or "nobody to send it to yet")
    # A team that is now people, even people who have not opened a chat with the bot yet: each then waits for their
    # own first chat, which routes it again for them.
    base = entry.key[: -len(name)] if entry.key.endswith(name) else entry.key + ":"
    return [await _note(services, entry, base + r.name if r.name != name else entry.key, r) for r in recipients]


async def _team_ids(services: Services, key: str, purpose: str) -> frozenset[str]:
    if key.startswith("approval:") and purpose == "governance":
        try:
            return await services.approvers.all()
        except DirectoryUnavailable as exc:
            raise Unroutable("the approvers group could not be read just now") from exc
    return services.settings.governance_ids if purpose == "governance" else services.settings.security_ids


async def _note(services: Services, entry: OutboxEntry, key: str, recipient: Recipient) -> Notification:
    ref = recipient.conversation or nowhere(recipient.name)
    card = await _card(services, entry, recipient)
    activity = Message(cards=[card], summary=entry.activity.get("summary")).to_activity(ref) if card else \
        {**entry.activity, **Message().to_activity(ref)}
    return Notification(key, ref, activity, undeliverable=recipient.problem)


async def _card(services: Services, entry: OutboxEntry, recipient: Recipient) -> dict | None:
    """The card drawn again for its new recipient, for the cards whose view depends on where they go."""
    kind, reference, rest = (entry.key.split(":", 2) + ["", ""])[:3]
    if not rest.startswith("card:") or recipient.conversation is None:
        return None
    if kind == "incident":
        incident = await services.incidents.get(reference)
        if incident is None:
            return None
        refresh = await _refresh_ids(services, [recipient])
        message = _triage_message(incident, recipient, refresh, now=datetime.now(services.settings.zone),
                                  dpo_told=await _dpo_told(services, incident))
        return message.cards[0]
    if kind == "approval":
        request = await services.approvals.get(reference)
        if request is None:
            return None
        refresh = await _approver_refresh(services, recipient.conversation) if recipient.user_id is None else None
        return _card_for(request, recipient.user_id, refresh)
    return None


async def _approver_refresh(services: Services, channel: ConversationRef) -> list[str]:
    return await teams_ids_for(services, await services.approvers.all(), channel)
