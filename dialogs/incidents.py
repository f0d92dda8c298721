"""report incident, my reports, and triage by the governance and IT security teams (policy 13)."""

from __future__ import annotations

from datetime import datetime

import structlog

from bot.outbound.destinations import mail_activity, mailbox
from bot.outbound.recipients import (
    Recipient, activity_for, nowhere, person, sender_chat, team, teams_ids_for, told_if_failed, updates_of_sent_cards,
)
from bot.services import Services
from bot.turn import Message, Turn
from cards.routing import routes_of
from cards.common import notice_card, safe, with_notice
from cards.incident import (
    build_breach_email, build_incident_form_card, build_my_reports_card, build_receipt_card,
    build_reporter_view, build_status_update_text, build_triage_card,
)
from domain.incidents import TriageRefused, possible_breach, triage_change, validate_report
from domain.records import Incident, Notification
from domain.times import shown_with_zone
from dialogs import guards
from storage.incidents import StaleIncident

log = structlog.get_logger(__name__)

TEAM_NAMES = {"governance": "the GenAI governance authority", "security": "the IT security team",
              "dpo": "the Data Protection Officer"}


async def show_form(turn: Turn, services: Services) -> None:
    now = datetime.now(services.settings.zone)
    tool = turn.argument
    card = build_incident_form_card({"tool_name": tool[:200]} if tool else None, now=now,
                                    authority_name=services.settings.genai_authority_name)
    await turn.reply(Message(cards=[card], summary="Report an AI incident"))


async def submit_report(turn: Turn, services: Services) -> None:
    incoming = turn.incoming
    now = datetime.now(services.settings.zone)
    form, errors = validate_report(incoming.data, now)
    if form is None:
        await turn.show(build_incident_form_card(incoming.data, errors, now=now,
                                                 authority_name=services.settings.genai_authority_name))
        return
    teams = [*await team(services, "governance", services.settings.governance_ids),
             *await team(services, "security", services.settings.security_ids)]
    dpos = await _dpos(services) if possible_breach(form.personal_data) else []
    dpo_told = any(r.conversation for r in dpos)
    refresh = await _refresh_ids(services, teams)
    reporter = await sender_chat(services, incoming.user_id, incoming.conversation)
    contact = safe(services.settings.genai_authority_contact)
    created: list[Notification] = []
    names = {**TEAM_NAMES, "governance": services.settings.genai_authority_name}

    def notify(incident: Incident) -> list[Notification]:
        def undelivered(recipient: Recipient) -> Notification:
            # The receipt says the report went to both teams (and the DPO): if it can't be delivered, say it didn't.
            team_name = recipient.name.split(":", 1)[0]
            return told_if_failed(
                f"incident:{incident.reference}:undelivered:{team_name}", reporter,
                f"I couldn't deliver your report **{incident.reference}** to {names[team_name]}: Teams refused "
                f"the message. Your report is saved and nothing you sent was lost, but they may not have seen it. "
                f"Please email {contact} quoting {incident.reference}.")

        notes = [
            Notification(f"incident:{incident.reference}:card:{r.name}", r.conversation or nowhere(r.name),
                         activity_for(_triage_message(incident, r, refresh, now=now, dpo_told=dpo_told), r),
                         undeliverable=r.problem, if_failed=undelivered(r))
            for r in teams
        ]
        # Plain text, and a summary: the chat list's preview shows the text as it is, markdown and all.
        dpo_text = Message(text=f"Possible personal data breach: {incident.reference}. An AI incident report says personal "
                                f"data may be involved. If it is notifiable, the ICO must be told within 72 hours of "
                                f"{shown_with_zone(incident.reported_at, now.tzinfo)}.",
                           summary=f"Possible personal data breach: {incident.reference}")
        notes += [Notification(f"incident:{incident.reference}:{r.name}", r.conversation or nowhere(r.name),
                               activity_for(dpo_text, r), undeliverable=r.problem, if_failed=undelivered(r)) for r in dpos]
        mailbox_address = services.settings.governance_mailbox
        if mailbox_address and possible_breach(incident.personal_data):
            subject, text = build_breach_email(incident, org_name=services.settings.org_name, dpo_told=dpo_told,
                                               zone=now.tzinfo)
            notes.append(Notification(f"incident:{incident.reference}:email", mailbox(mailbox_address),
                                      mail_activity(subject, text)))
        created[:] = notes  # what the receipt says is decided from these
        return notes

    incident = await services.incidents.create(
        form, reporter_id=incoming.user_id, reporter_name=incoming.user_name, notify=notify, outbox=services.outbox,
    )
    services.deliver_soon()
    log.info("incident reported", reference=incident.reference, severity=incident.severity)
    unreachable = [r for r in teams if r.conversation is None]
    if unreachable:
        log.error("incident could not be routed to every team", reference=incident.reference,
                  problems=[r.problem for r in unreachable])
    routes = routes_of(created, {purpose: names[purpose] for purpose in ("governance", "security")})
    await turn.show(build_receipt_card(incident, now=now, dpo_told=dpo_told, routes=routes,
                                       contact=services.settings.genai_authority_contact))


def _members(services: Services) -> frozenset[str]:
    return services.settings.governance_ids | services.settings.security_ids


async def _refresh_ids(services: Services, teams: list[Recipient]) -> dict[str, list[str]]:
    """For each channel, the members' Teams ids: Teams refreshes the card to their view with buttons."""
    return {r.name: await teams_ids_for(services, _members(services), r.conversation)
            for r in teams if r.user_id is None and r.conversation is not None}


def _triage_message(incident: Incident, recipient: Recipient, refresh: dict, *, now, dpo_told: bool) -> Message:
    card = build_triage_card(incident, now=now, dpo_told=dpo_told, member_view=recipient.user_id is not None,
                             refresh_user_ids=refresh.get(recipient.name))
    return Message(cards=[card], summary=f"AI incident {incident.reference}")


async def refresh_triage(turn: Turn, services: Services) -> None:
    """Teams asks for someone's own view of a triage card (Universal Actions refresh). Anyone can send this
    invoke, naming any reference, so it shows the report only to the triage teams and to its reporter."""
    incoming = turn.incoming
    reference = str(incoming.data.get("reference") or "")[:20]
    incident = await services.incidents.get(reference)
    if incoming.user_id in _members(services):
        if incident is None:
            turn.respond_with_card(notice_card("Incident not found", "This incident report no longer exists."))
            return
        mine = [incoming.user_teams_id] if incoming.user_teams_id else None
        turn.respond_with_card(build_triage_card(incident, now=datetime.now(services.settings.zone),
                                                 dpo_told=await _dpo_told(services, incident), refresh_user_ids=mine))
        return
    if incident is not None and incident.reporter_id == incoming.user_id:
        turn.respond_with_card(build_reporter_view(incident))
        return
    # The same answer whether or not the reference exists, so references can't be probed.
    await guards.refuse(turn, services, f"incident:{reference}",
                        notice_card("You can't see this incident report",
                                    "Only the GenAI governance and IT security teams, and the person who made "
                                    "the report, can see it."),
                        detail={"action": "refresh"}, as_invoke_response=True)


async def _dpos(services: Services) -> list[Recipient]:
    return [await person(services, f"dpo:{user}", user) for user in sorted(services.settings.dpo_ids)]


async def _dpo_told(services: Services, incident: Incident) -> bool:
    return possible_breach(incident.personal_data) and any(r.conversation for r in await _dpos(services))


async def my_reports(turn: Turn, services: Services) -> None:
    incidents = await services.incidents.for_reporter(turn.incoming.user_id)
    await turn.reply(Message(cards=[build_my_reports_card(incidents)], summary="Your reports"))


async def triage(turn: Turn, services: Services) -> None:
    """A triage button on an incident card (the route is TRIAGE_MEMBERS_ONLY)."""
    incoming = turn.incoming
    data = incoming.data
    reference, action = guards.reference(turn), guards.action(turn)
    incident = await services.incidents.get(reference)
    if incident is None:
        await turn.show(notice_card("Incident not found", f"There is no incident {safe(reference)}."))
        return
    payload = {"severity": data.get("severity"), "note": data.get("note"), "outcome": data.get("note")}
    try:
        changes = triage_change(incident.status, action, payload)
        version = int(data.get("version"))
    except TriageRefused as refused:
        card = build_triage_card(incident, now=datetime.now(services.settings.zone), dpo_told=await _dpo_told(services, incident))
        await turn.show(with_notice(card, str(refused)))
        return
    except (TypeError, ValueError):
        version = -1
    now = datetime.now(services.settings.zone)
    reporter = await services.conversations.personal_for(incident.reporter_id)
    originals = await services.outbox.entries(prefix=f"incident:{reference}:card:")
    dpo_told = await _dpo_told(services, incident)

    def notify(updated: Incident) -> list[Notification]:
        notes = updates_of_sent_cards(
            originals, f"incident:{updated.reference}:v{updated.version}:card:",
            lambda user, refresh_ids: build_triage_card(updated, now=now, dpo_told=dpo_told, member_view=user is not None,
                                                        refresh_user_ids=refresh_ids))
        told = Message(text=build_status_update_text(updated, action))
        notes.append(Notification(
            f"incident:{updated.reference}:v{updated.version}:reporter", reporter or nowhere(updated.reporter_id),
            told.to_activity(reporter or nowhere(updated.reporter_id)), undeliverable=None if reporter else "the reporter has no 1:1 chat with the bot"))
        return notes

    try:
        updated = await services.incidents.change(
            reference, version=version, changes=changes, actor_id=incoming.user_id, actor_name=incoming.user_name,
            action=action, notify=notify, outbox=services.outbox,
        )
    except StaleIncident:
        current = await services.incidents.get(reference)
        await turn.show(with_notice(build_triage_card(current, now=now, dpo_told=dpo_told),
                                       "Someone else updated this incident first; this is its current state."))
        return
    services.deliver_soon()
    await turn.show(build_triage_card(updated, now=now, dpo_told=dpo_told))
