"""report incident, my reports, and triage by the governance and IT security teams (policy 13)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from bot.outbound.destinations import mail_activity, mailbox
from bot.outbound.recipients import (
    Recipient, notification_to, person, sender_chat, team, teams_ids_for, to_personal_chat, told_if_failed,
    updates_of_sent_cards,
)
from bot.settings import Settings
from bot.services import Services
from bot.turn import Incoming, Message, Turn
from cards.routing import routes_of
from cards.verbs import VERB_REPORT_START
from cards.common import notice_card, safe, with_notice
from cards.incident import (
    build_breach_email, build_incident_form_card, build_my_reports_card, build_receipt_card,
    build_reporter_view, build_status_update_text, build_triage_card,
)
from domain.incidents import LIMITS, IncidentForm, TriageRefused, possible_breach, triage_change, validate_report
from domain.records import ConversationRef, Incident, Notification, OutboxEntry
from domain.times import shown_with_zone
from dialogs import guards
from storage.incidents import StaleIncident

log = structlog.get_logger(__name__)

TEAM_NAMES = {"governance": "the GenAI governance authority", "security": "the IT security team",
              "dpo": "the Data Protection Officer"}


async def show_form(turn: Turn, services: Services) -> None:
    now = datetime.now(services.settings.zone)
    values = await _told_before(turn, services) if turn.incoming.verb == VERB_REPORT_START else {}
    if turn.argument:
        values["tool_name"] = turn.argument[:LIMITS["tool_name"]]
    card = build_incident_form_card(values or None, now=now, authority_name=services.settings.genai_authority_name)
    await turn.show_below(card, summary="Report an AI incident", clicked="The report form is below.")


async def _told_before(turn: Turn, services: Services) -> dict:
    """What the person already told the bot (the question that sounded like an incident, as stored, so with
    personal details masked), to fill the form in. Only their own question: anyone else's gives an empty form."""
    question_id = turn.incoming.data.get("question")
    record = await services.questions.get(question_id) if isinstance(question_id, int) else None
    if record is None or record.user_id != turn.incoming.user_id:
        return {}
    values = {"description": record.text[:LIMITS["description"]]}
    tools = (await services.library.tool_finder()).find(record.text)
    if tools:
        values["tool_name"] = tools[0].name[:LIMITS["tool_name"]]
    return values


@dataclass(frozen=True)
class _Routing:
    """Where a new report goes, worked out before it is stored."""
    teams: list[Recipient]        # governance and security: their channels, or each member 1:1
    dpos: list[Recipient]         # only for a possible personal data breach
    refresh: dict[str, list[str]]  # per channel, the members' Teams ids for the card's refresh
    reporter: Recipient
    names: dict[str, str]         # what the receipt and the failure notices call each team

    @property
    def dpo_told(self) -> bool:
        return any(r.conversation for r in self.dpos)


async def _routing(services: Services, incoming: Incoming, form: IncidentForm) -> _Routing:
    teams = [*await team(services, "governance", services.settings.governance_ids),
             *await team(services, "security", services.settings.security_ids)]
    dpos = await _dpos(services) if possible_breach(form.personal_data) else []
    return _Routing(teams, dpos, await _refresh_ids(services, teams),
                    await sender_chat(services, incoming.user_id, incoming.conversation),
                    {**TEAM_NAMES, "governance": services.settings.genai_authority_name})


def _report_notices(incident: Incident, routing: _Routing, settings: Settings, *, now: datetime) -> list[Notification]:
    """The triage card for each team, the DPO's alert and the breach email; the receipt is decided from these."""
    contact = safe(settings.genai_authority_contact)

    def undelivered(recipient: Recipient) -> Notification:
        # The receipt says the report went to both teams (and the DPO): if it can't be delivered, say it didn't.
        team_name = recipient.name.split(":", 1)[0]
        return told_if_failed(
            f"incident:{incident.reference}:undelivered:{team_name}", routing.reporter,
            f"I couldn't deliver your report **{incident.reference}** to {routing.names[team_name]}: Teams refused "
            f"the message. Your report is saved and nothing you sent was lost, but they may not have seen it. "
            f"Please email {contact} quoting {incident.reference}.")

    notes = [notification_to(r, f"incident:{incident.reference}:card:{r.name}",
                             _triage_message(incident, r, routing.refresh, now=now, dpo_told=routing.dpo_told),
                             if_failed=undelivered(r))
             for r in routing.teams]
    # Plain text, and a summary: the chat list's preview shows the text as it is, markdown and all.
    dpo_text = Message(text=f"Possible personal data breach: {incident.reference}. An AI incident report says personal "
                            f"data may be involved. If it is notifiable, the ICO must be told within 72 hours of "
                            f"{shown_with_zone(incident.reported_at, now.tzinfo)}.",
                       summary=f"Possible personal data breach: {incident.reference}")
    notes += [notification_to(r, f"incident:{incident.reference}:{r.name}", dpo_text, if_failed=undelivered(r))
              for r in routing.dpos]
    if settings.governance_mailbox and possible_breach(incident.personal_data):
        subject, text = build_breach_email(incident, org_name=settings.org_name, dpo_told=routing.dpo_told,
                                           zone=now.tzinfo)
        notes.append(Notification(f"incident:{incident.reference}:email", mailbox(settings.governance_mailbox),
                                  mail_activity(subject, text)))
    return notes


async def submit_report(turn: Turn, services: Services) -> None:
    incoming = turn.incoming
    now = datetime.now(services.settings.zone)
    form, errors = validate_report(incoming.data, now)
    if form is None:
        await turn.show(build_incident_form_card(incoming.data, errors, now=now,
                                                 authority_name=services.settings.genai_authority_name))
        return
    routing = await _routing(services, incoming, form)
    async with services.incidents.create(form, reporter_id=incoming.user_id, reporter_name=incoming.user_name) as change:
        change.queue(_report_notices(change.record, routing, services.settings, now=now))
    incident = change.record
    services.deliver_soon()
    log.info("incident reported", reference=incident.reference, severity=incident.severity)
    unreachable = [r for r in routing.teams if r.conversation is None]
    if unreachable:
        log.warning("incident could not be routed to every team", reference=incident.reference,
                    problems=[r.problem for r in unreachable])
    routes = routes_of(change.notifications, {purpose: routing.names[purpose] for purpose in ("governance", "security")})
    await turn.show(build_receipt_card(incident, now=now, dpo_told=routing.dpo_told, routes=routes,
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
    reference = guards.reference(turn)
    incident = await services.incidents.get(reference)
    if incoming.user_id in _members(services):
        if incident is None:
            turn.respond_with_card(notice_card("Incident not found", "This incident report no longer exists."))
            return
        turn.respond_with_card(await _member_card(services, incident, incoming))
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


async def _member_card(services: Services, incident: Incident, incoming: Incoming) -> dict:
    """A triage member's own view of the card as it is now: the triage buttons until it is resolved, then a note."""
    mine = incoming.own_refresh_ids
    return build_triage_card(incident, now=datetime.now(services.settings.zone),
                             dpo_told=await _dpo_told(services, incident), refresh_user_ids=mine)


async def open_card(turn: Turn, services: Services) -> None:
    """A triage member types "open incident INC-2026-0001", or presses its Open button on the list of open incidents
    (the route is TRIAGE_MEMBERS_ONLY): the incident's card again, where they are, as it is now, below the list. The
    first may be far up a busy channel, or in a terminal chat since restarted; triaging on this copy updates every
    copy and tells the reporter, as on the first."""
    incident = await guards.typed_record(turn, services.incidents.get, command="open incident", example="INC-2026-0001",
                                         noun="incident report",
                                         where="The reference is on the triage card, and in the reporter's receipt.")
    if incident is not None:
        await turn.show_below(await _member_card(services, incident, turn.incoming),
                              summary=f"AI incident {incident.reference}",
                              clicked=f"The triage card of {incident.reference} is below.")


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
    incident = await guards.named_record(turn, services.incidents.get, "Incident not found", "incident")
    if incident is None:
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

    try:
        async with services.incidents.change(reference, version=version, changes=changes, actor_id=incoming.user_id,
                                             actor_name=incoming.user_name, action=action) as change:
            change.queue(_triage_notices(originals, change.record, action, reporter, now=now, dpo_told=dpo_told))
    except StaleIncident:
        current = await services.incidents.get(reference)
        await turn.show(with_notice(build_triage_card(current, now=now, dpo_told=dpo_told),
                                       "Someone else updated this incident first; this is its current state."))
        return
    services.deliver_soon()
    await turn.show(build_triage_card(change.record, now=now, dpo_told=dpo_told))


def _triage_notices(originals: list[OutboxEntry], updated: Incident, action: str, reporter: ConversationRef | None, *,
                    now: datetime, dpo_told: bool) -> list[Notification]:
    """Every triage card updated in place; the reporter told what changed."""
    cards = updates_of_sent_cards(
        originals, f"incident:{updated.reference}:v{updated.version}:card:",
        lambda user, refresh_ids: build_triage_card(updated, now=now, dpo_told=dpo_told, member_view=user is not None,
                                                    refresh_user_ids=refresh_ids))
    return [*cards, to_personal_chat(f"incident:{updated.reference}:v{updated.version}:reporter", reporter,
                                     updated.reporter_id, Message(text=build_status_update_text(updated, action)),
                                     "reporter")]
