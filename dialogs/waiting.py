"""`pending requests` for the approvers and `open incidents` for the triage teams: what waits for them, each item a
button away from its card (the routes are guarded: APPROVERS_ONLY's check, TRIAGE_MEMBERS_ONLY's)."""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Sequence

from bot.services import Services
from bot.turn import Message, Turn
from cards.waiting import build_open_incidents_card, build_pending_requests_card
from domain.approvals import waiting_oldest_first
from domain.incidents import most_urgent_first
from domain.times import Waited


async def pending_requests(turn: Turn, services: Services) -> None:
    requests = waiting_oldest_first(await services.approvals.pending())
    await _show(turn, services, requests, "pending-requests", "Tool requests waiting",
                lambda as_of: build_pending_requests_card(requests=requests, as_of=as_of))


async def open_incidents(turn: Turn, services: Services) -> None:
    incidents = most_urgent_first(await services.incidents.unresolved())
    await _show(turn, services, incidents, "open-incidents", "Open incidents",
                lambda as_of: build_open_incidents_card(incidents=incidents, as_of=as_of))


async def _show(turn: Turn, services: Services, items: Sequence, report: str, title: str,
                build: Callable[[Waited], dict]) -> None:
    """The list's card, drawn as of now in the organisation's zone; that it was seen (and how long it was) audited."""
    await services.audit.append(turn.incoming.user_id, "report.viewed", f"report:{report}", {"items": len(items)})
    card = build(services.settings.waited_as_of(datetime.now(services.settings.zone)))
    await turn.reply(Message(cards=[card], summary=f"{title}: {len(items)}"))
