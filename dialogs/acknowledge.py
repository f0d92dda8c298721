"""acknowledge, policy (read section by section), my status, and the governance team's report."""

from __future__ import annotations

from bot.services import Services
from bot.turn import Message, Turn
from cards.acknowledge import (
    build_ack_report_card, build_acknowledge_card, build_acknowledged_card,
    build_policy_page_card, build_status_card,
)
from cards.common import notice_card, with_notice
from domain.acknowledgements import changes_between
from domain.policy_parse import parse_policy
from bot.library import placeholders


async def acknowledge_card(services: Services, user_id: str) -> dict | None:
    """The prompt for this person, or None if there is no policy or they are up to date."""
    policy = await services.library.current()
    if policy.version is None or await services.acknowledgements.has_acknowledged(user_id, policy.version.id):
        return None
    last = await services.acknowledgements.latest_for(user_id)
    changes = None
    if last is not None:
        previous = await services.policies.get(last.version_id)
        if previous is not None:
            changes = changes_between(parse_policy(previous.text, placeholders(services.settings)), policy.document)
    return build_acknowledge_card(version_id=policy.version.id, version_label=policy.version.label,
                                  changes=changes, last_label=last.version_label if last else None)


async def prompt_if_due(turn: Turn, services: Services) -> None:
    """After the welcome: ask anyone who has not acknowledged the current version."""
    card = await acknowledge_card(services, turn.incoming.user_id)
    if card is not None:
        await turn.reply(Message(cards=[card], summary="Please acknowledge the GenAI policy"))


async def show_acknowledge(turn: Turn, services: Services) -> None:
    card = await acknowledge_card(services, turn.incoming.user_id)
    if card is None:
        last = await services.acknowledgements.latest_for(turn.incoming.user_id)
        if last is None:
            await turn.reply("There is no published policy to acknowledge yet.")
            return
        card = build_acknowledged_card(version_label=last.version_label, at=last.acknowledged_at, first=False)
    await turn.reply(Message(cards=[card]))


async def acknowledge(turn: Turn, services: Services) -> None:
    incoming = turn.incoming
    policy = await services.library.current(fresh=True)
    if policy.version is None:
        await turn.show(notice_card("Nothing to acknowledge", "No policy has been published yet."))
        return
    if str(incoming.data.get("version")) != str(policy.version.id):
        card = await acknowledge_card(services, incoming.user_id) or build_acknowledged_card(
            version_label=policy.version.label, at=(await services.acknowledgements.latest_for(incoming.user_id)).acknowledged_at,
            first=False)
        await turn.show(with_notice(
            card, "A newer version of the policy has been published since this card was sent. Please read what changed."))
        return
    first = await services.acknowledgements.record(
        user_id=incoming.user_id, user_name=incoming.user_name, version=policy.version,
        conversation_id=incoming.conversation.id,
    )
    last = await services.acknowledgements.latest_for(incoming.user_id)
    await turn.show(build_acknowledged_card(version_label=policy.version.label, at=last.acknowledged_at, first=first))


async def read_policy(turn: Turn, services: Services) -> None:
    policy = await services.library.current()
    if policy.version is None:
        await turn.reply("No policy has been published yet.")
        return
    sections = [s for s in policy.document.sections if s.number]
    try:
        position = int(turn.incoming.data.get("position", 0))
    except (TypeError, ValueError):
        position = 0
    position = max(0, min(position, len(sections) - 1))
    card = build_policy_page_card(section=sections[position], position=position, total=len(sections),
                                  version_id=policy.version.id, version_label=policy.version.label)
    await turn.show(card)


async def my_status(turn: Turn, services: Services) -> None:
    user = turn.incoming.user_id
    policy = await services.library.current()
    last = await services.acknowledgements.latest_for(user)
    current_done = policy.version is not None and last is not None and last.version_id == policy.version.id
    open_reports = [i.reference for i in await services.incidents.for_reporter(user) if i.status != "resolved"]
    open_requests = [r.reference for r in await services.approvals.for_requester(user) if r.status == "pending"]
    card = build_status_card(
        current_label=policy.version.label if policy.version else None,
        acknowledged=(last.version_label, last.acknowledged_at) if last else None,
        current_done=current_done, open_reports=open_reports, open_requests=open_requests,
    )
    await turn.reply(Message(cards=[card], summary="Your status"))


async def governance_report(turn: Turn, services: Services) -> None:
    """The acknowledgement figures (the route is GOVERNANCE_ONLY)."""
    incoming = turn.incoming
    versions = await services.policies.all()
    if not versions:
        await turn.reply("No policy has been published yet.")
        return
    current = versions[-1]
    done, total = await services.acknowledgements.figures(current.id)
    previous = None
    if len(versions) > 1:
        prev_done, prev_total = await services.acknowledgements.figures(versions[-2].id)
        previous = (versions[-2].label, prev_done, prev_total)
    await services.audit.append(incoming.user_id, "report.viewed", "report:acknowledgements", {"version": current.label})
    await turn.reply(Message(cards=[build_ack_report_card(current_label=current.label, done=done, total=total,
                                                          previous=previous)], summary="Policy acknowledgements"))
