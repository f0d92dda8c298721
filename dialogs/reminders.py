"""Reminder rounds: a 1:1 nudge to everyone who has not acknowledged the current policy, through the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import structlog

from bot.services import Services
from bot.turn import Message
from cards.acknowledge import build_reminder_text

log = structlog.get_logger(__name__)

BATCH = 1000


def round_label(today: date) -> str:
    """One round per ISO week, so a weekly schedule and a manual run in the same week do not both remind."""
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class RoundPlan:
    key_prefix: str
    queued: int  # newly queued in this call
    already: int  # queued by an earlier call in the same round
    unreachable: int  # outstanding, but with no 1:1 chat to write to


async def this_weeks_round(services: Services) -> None:
    """The scheduled job: queue this ISO week's round (a no-op when it is already queued)."""
    plan = await queue_round(services, round_label(date.today()))
    if plan and plan.queued:
        log.info("queued weekly reminders", queued=plan.queued, unreachable=plan.unreachable)


async def queue_round(services: Services, label: str) -> RoundPlan | None:
    policy = await services.library.current(fresh=True)
    if policy.version is None:
        return None
    prefix = f"reminder:{policy.version.id}:{label}:"
    outstanding = await services.acknowledgements.outstanding(policy.version.id)
    existing = await services.outbox.keys_with_prefix(prefix)
    to_queue = [user for user in outstanding if f"{prefix}{user}" not in existing]
    queued = unreachable = 0
    text = build_reminder_text(policy.version.label)
    for start in range(0, len(to_queue), BATCH):
        chunk = to_queue[start:start + BATCH]
        refs = await services.conversations.personal_for_many(chunk)
        messages = []
        for user in chunk:
            ref = refs.get(user)
            if ref is None:
                unreachable += 1
                continue
            messages.append((f"{prefix}{user}", ref, Message(text=text).to_activity(ref)))
        await services.outbox.add_many(messages)
        queued += len(messages)
    services.deliver_soon()
    return RoundPlan(prefix, queued, len(existing), unreachable)
