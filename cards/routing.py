"""What a receipt says about where something went, decided from the outbox entries that were created.

A receipt must never claim more than happened: "sent to the IT security team" only when an entry addressed
to them could be routed, and otherwise who could not be reached and whom to email instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from cards.common import safe
from domain.records import Notification


@dataclass(frozen=True)
class Route:
    """Where the messages for one team went."""

    team: str  # as people say it: "the IT security team"
    channel: bool = False  # posted in the team's registered channel
    people: int = 0  # sent to this many people, each in their own chat with the bot
    missed: int = 0  # this many could not be routed at all (no channel, no people, or no chat with someone)

    @property
    def reached(self) -> bool:
        return self.channel or self.people > 0


def routes_of(notifications: Sequence[Notification], teams: dict[str, str], *, marker: str = ":card:") -> list[Route]:
    """One Route per team, in the order of `teams` ({purpose: name}), from the entries keyed "…<marker><purpose>"
    or "…<marker><purpose>:<user id>"."""
    found = {purpose: {"channel": False, "people": 0, "missed": 0} for purpose in teams}
    for note in notifications:
        if marker not in note.key or note.update_of is not None:
            continue
        name = note.key.split(marker, 1)[1]
        purpose = name.split(":", 1)[0]
        if purpose not in found:
            continue
        counts = found[purpose]
        if note.undeliverable:
            counts["missed"] += 1
        elif note.conversation.kind == "channel":
            counts["channel"] = True
        else:
            counts["people"] += 1
    return [Route(teams[purpose], **counts) for purpose, counts in found.items()]


def _where(route: Route) -> str:
    if route.channel:
        return f"{route.team} (in their Teams channel)"
    people = "1 person" if route.people == 1 else f"{route.people} people"
    of = f" of {route.people + route.missed}" if route.missed else ""
    return f"{route.team} ({people}{of}, each in their own Teams chat)"


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def routing_text(routes: Sequence[Route], *, contact: str, reference: str) -> tuple[str, bool]:
    """The receipt's sentence about where it went, and whether the person must do something (email someone)."""
    reached = [_where(r) for r in routes if r.reached]
    unrouted = [r.team for r in routes if not r.reached]
    partly = [r.team for r in routes if r.reached and r.missed]
    email = f"Please email {safe(contact)} quoting {reference}"
    if not reached:
        return (f"I couldn't send it to {_joined(unrouted)} automatically: nobody there can be reached by this bot yet. "
                f"Nothing you sent was lost. {email}, so that they see it."), True
    text = f"I've sent it to {_joined(reached)}, and I'll tell you here if Teams refuses to deliver it."
    if unrouted:
        text += (f" I couldn't send it to {_joined(unrouted)} automatically: nobody there can be reached by this bot yet. "
                 f"{email}.")
        return text, True
    if partly:
        text += (f" Some people in {_joined(partly)} haven't opened a chat with this bot yet, so they weren't sent it; "
                 f"to be sure they see it, {email[0].lower()}{email[1:]}.")
        return text, True
    return text, False
