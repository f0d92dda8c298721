"""Cards for incident reports: the form, the receipt, the triage card and the reporter's list."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Sequence

from microsoft_teams.cards import (
    ChoiceSetInput, Choice, Container, Fact, FactSet, TextInput, ToggleInput,
)

from cards.common import button, card, field_error, form_notice, heading, para, refresh_for, safe, to_dict
from cards.verbs import VERB_REPORT_SUBMIT, VERB_TRIAGE, VERB_TRIAGE_REFRESH
from cards.fit import Echo, fit
from cards.routing import Route, routing_text
from domain.incidents import (
    CATEGORIES, LIMITS, PERSONAL_DATA, SEVERITIES, STATUSES, notification_deadline, possible_breach, time_left,
)
from domain.records import Incident
from domain.times import card_day, card_when, shown_with_zone, typed


def _choices(options: dict) -> list[Choice]:
    return [Choice(title=title, value=value) for value, title in options.items()]


def build_incident_form_card(values: dict | None = None, errors: dict | None = None, *, now: datetime,
                             authority_name: str) -> dict:
    """The report form; after a failed submission it comes back with everything typed and each problem named.
    `now` is in the organisation's zone, where the default time is shown and the typed one is read."""
    return fit(lambda echo: _incident_form(values or {}, errors or {}, now, authority_name, echo))


def _incident_form(values: dict, errors: dict, now: datetime, authority_name: str, echo: Echo) -> dict:
    def text(name: str) -> str:
        value = values.get(name)
        return echo.value(value) if isinstance(value, str) else ""

    body = [
        heading("Report an AI concern or incident"),
        para(f"Reports go straight to {safe(authority_name)} and the IT security team (policy section 13). "
             "If personal data may be involved, say so: the council may need to tell the ICO within 72 hours.", subtle=True),
    ]
    fields = [
        TextInput(id="description", label="What happened?", is_multiline=True, is_required=True,
                  max_length=LIMITS["description"], value=text("description") or None,
                  error_message="Please say what happened."),
        *field_error(errors, "description"),
        TextInput(id="tool_name", label="Which AI tool?", is_required=True, max_length=LIMITS["tool_name"],
                  placeholder="e.g. ChatGPT, Copilot, or unknown", value=text("tool_name") or None),
        *field_error(errors, "tool_name"),
        TextInput(id="occurred_at", label="When did it happen? (YYYY-MM-DD HH:MM)",
                  value=text("occurred_at") or typed(now, now.tzinfo)),
        *field_error(errors, "occurred_at"),
        ChoiceSetInput(id="personal_data", label="Was personal data involved?", is_required=True, style="expanded",
                       choices=_choices(PERSONAL_DATA), value=text("personal_data") or None),
        *field_error(errors, "personal_data"),
        ChoiceSetInput(id="category", label="What kind of incident?", is_required=True,
                       choices=_choices(CATEGORIES), value=text("category") or None),
        *field_error(errors, "category"),
        ChoiceSetInput(id="severity", label="How serious do you think it is?", is_required=True, style="expanded",
                       choices=_choices(SEVERITIES), value=text("severity") or None),
        *field_error(errors, "severity"),
        ToggleInput(id="anonymous", title="Hide my name from the triage channel", value_on="true", value_off="false",
                    value=text("anonymous") or "false"),
        *field_error(errors, "anonymous"),
    ]
    body.extend(form_notice(shortened=echo.shortened, errors=errors))
    return to_dict(card(body + fields, [button("Send report", VERB_REPORT_SUBMIT, style="positive")],
                        fallback_text="Report an AI incident"))


def reporter_shown(incident: Incident, echo: Echo) -> str:
    """Who reported it, as the triage teams see it: an anonymous report's reporter is not named (the database keeps them)."""
    if incident.anonymous:
        return "Anonymous (identity held by the governance leads)"
    return echo(incident.reporter_name or incident.reporter_id)


def _facts(incident: Incident, echo: Echo, *, show_reporter: bool) -> FactSet:
    facts = [
        Fact(title="Reference", value=incident.reference),
        Fact(title="Status", value=STATUSES[incident.status]),
        Fact(title="Severity", value=SEVERITIES[incident.severity]),
        Fact(title="Category", value=CATEGORIES[incident.category]),
        Fact(title="Tool", value=echo(incident.tool_name)),
        Fact(title="Happened", value=card_when(incident.occurred_at)),
        Fact(title="Reported", value=card_when(incident.reported_at)),
        Fact(title="Personal data", value=PERSONAL_DATA[incident.personal_data]),
    ]
    if show_reporter:
        facts.append(Fact(title="Reported by", value=reporter_shown(incident, echo)))
    if incident.assignee_name or incident.assignee_id:
        facts.append(Fact(title="Assigned to", value=echo(incident.assignee_name or incident.assignee_id)))
    if incident.outcome:
        facts.append(Fact(title="Outcome", value=echo(incident.outcome)))
    return FactSet(facts=facts)


def _breach_warning(incident: Incident, now: datetime, dpo_told: bool) -> list:
    if not possible_breach(incident.personal_data):
        return []
    deadline = notification_deadline(incident.reported_at)
    dpo = ("The Data Protection Officer has been told." if dpo_told else
           "The Data Protection Officer could not be told automatically: please tell them now.")
    # The deadline itself, which Teams shows in each viewer's zone; the time left only as of a stated moment, since a
    # card is not redrawn by itself (a channel card is, for each member, when Teams refreshes it).
    return [Container(style="attention", items=[
        para("**Possible personal data breach**"),
        para(f"If this is a notifiable breach the ICO must be told by **{card_when(deadline)}**. {dpo}"),
        para(f"As of {card_when(now)}: {time_left(deadline, now)}.", subtle=True),
    ])]


def build_receipt_card(incident: Incident, *, now: datetime, dpo_told: bool, routes: Sequence[Route], contact: str) -> dict:
    """`routes`: where the triage cards went, from the outbox entries created (cards.routing.routes_of)."""
    where, act = routing_text(routes, contact=contact, reference=incident.reference)
    return fit(lambda echo: to_dict(card([
        heading(f"Report received: {incident.reference}"),
        para(f"Thank you. Your report is saved. {where if not act else ''}".rstrip()),
        *([para(where, color="Attention")] if act else []),
        para("I'll tell you here when its status changes. Type **my reports** to see your reports."),
        _facts(incident, echo, show_reporter=False),
        *_breach_warning(incident, now, dpo_told),
    ], fallback_text=f"Report received: {incident.reference}")), kept_with=incident.reference)


def build_reporter_view(incident: Incident) -> dict:
    """The report as its reporter may see it: what they told us and where it stands, without the triage
    team's notes and without any line about who reported it."""
    return fit(lambda echo: to_dict(card([
        heading(f"Your report {incident.reference}"),
        para(echo(incident.description)),
        _facts(incident, echo, show_reporter=False),
        para("The GenAI governance and IT security teams handle this report. I'll tell you here when its status "
             "changes.", subtle=True),
    ], fallback_text=f"Your report {incident.reference}")), kept_with=incident.reference)


def build_triage_card(incident: Incident, *, now: datetime, dpo_told: bool, member_view: bool = True,
                      refresh_user_ids: list[str] | None = None) -> dict:
    """The triage card. In a channel everyone sees it read-only and Teams refreshes it for the triage
    members (Universal Actions), who get the buttons; in a member's 1:1 chat the buttons are on it."""
    return fit(lambda echo: _triage_card(incident, echo, now, dpo_told, member_view, refresh_user_ids),
               kept_with=incident.reference)


def _triage_card(incident: Incident, echo: Echo, now: datetime, dpo_told: bool, member_view: bool,
                 refresh_user_ids: list[str] | None) -> dict:
    body = [
        heading(f"AI incident {incident.reference}: {CATEGORIES[incident.category]}"),
        *_breach_warning(incident, now, dpo_told),
        para(echo(incident.description)),
        _facts(incident, echo, show_reporter=True),
    ]
    notes, _ = echo.last(incident.notes[-5:])
    if len(incident.notes) > len(notes):
        body.append(para(f"Earlier notes not shown here: {len(incident.notes) - len(notes)}.", subtle=True))
    for note in notes:
        body.append(para(f"📝 {echo(note.get('by'))} ({_note_time(note)}): {echo(note.get('text'))}",
                         subtle=True))
    actions = []
    refresh = refresh_for(VERB_TRIAGE_REFRESH, {"reference": incident.reference},
                          refresh_user_ids) if refresh_user_ids is not None else None
    if not member_view:
        body.append(para("The GenAI governance and IT security teams triage this report here.", subtle=True))
        return to_dict(card(body, refresh=refresh, fallback_text=f"AI incident {incident.reference}"))
    if incident.status != "resolved":
        body += [
            ChoiceSetInput(id="severity", label="Severity", choices=_choices(SEVERITIES), value=incident.severity),
            TextInput(id="note", label="Note, or outcome when resolving", is_multiline=True, max_length=LIMITS["note"]),
        ]
        data = {"reference": incident.reference, "version": incident.version}
        if incident.status == "new":
            actions.append(button("Acknowledge", VERB_TRIAGE, {**data, "action": "acknowledge"}))
        actions += [
            button("Assign to me", VERB_TRIAGE, {**data, "action": "assign"}),
            button("Change severity", VERB_TRIAGE, {**data, "action": "severity"}),
            button("Add note", VERB_TRIAGE, {**data, "action": "note"}),
            button("Resolve", VERB_TRIAGE, {**data, "action": "resolve"}, style="positive"),
        ]
    else:
        body.append(TextInput(id="note", label="Note", is_multiline=True, max_length=LIMITS["note"]))
        actions.append(button("Add note", VERB_TRIAGE, {"reference": incident.reference, "version": incident.version,
                                                        "action": "note"}))
    return to_dict(card(body, actions, refresh=refresh, fallback_text=f"AI incident {incident.reference}"))


def _note_time(note: dict) -> str:
    try:
        return card_when(datetime.fromisoformat(str(note.get("at"))))
    except ValueError:
        return ""


def build_status_update_text(incident: Incident, action: str) -> str:
    what = {
        "acknowledge": "has been acknowledged by the triage team",
        "assign": f"is being handled by {safe(incident.assignee_name or 'a member of the triage team')}",
        "severity": f"now has severity **{SEVERITIES[incident.severity]}**",
        "note": "has a new note from the triage team",
        "resolve": f"has been resolved. Outcome: {safe(incident.outcome or '')}",
    }[action]
    return f"Your report **{incident.reference}** {what}. Status: **{STATUSES[incident.status]}**."


def build_my_reports_card(incidents: list[Incident]) -> dict:
    if not incidents:
        return to_dict(card([heading("Your reports"), para("You haven't reported any incidents. Type **report incident** to make one.")]))
    body = [heading("Your reports")]
    for incident in incidents[:20]:
        body.append(para(f"**{incident.reference}**: {STATUSES[incident.status]} · {SEVERITIES[incident.severity]} · "
                         f"{CATEGORIES[incident.category]} · reported {card_day(incident.reported_at)}"))
    return to_dict(card(body, fallback_text="Your reports"))


def build_breach_email(incident: Incident, *, org_name: str, dpo_told: bool, zone: tzinfo = timezone.utc) -> tuple[str, str]:
    """Subject and plain text for the governance mailbox. It leaves out the description and the reporter:
    email travels further than Teams, and the triage card holds both."""
    deadline = notification_deadline(incident.reported_at)
    subject = f"Possible personal data breach: AI incident {incident.reference} ({SEVERITIES[incident.severity]})"
    lines = [
        f"An AI incident reported to the {org_name} GenAI policy assistant may involve personal data.",
        "",
        f"Reference: {incident.reference}",
        f"Category: {CATEGORIES[incident.category]}",
        f"Severity (as the reporter sees it): {SEVERITIES[incident.severity]}",
        f"Tool: {incident.tool_name}",
        f"Happened: {shown_with_zone(incident.occurred_at, zone)}",
        f"Reported: {shown_with_zone(incident.reported_at, zone)}",
        f"Personal data involved: {PERSONAL_DATA[incident.personal_data]}",
        "",
        f"If this is a notifiable breach, the ICO must be told by {shown_with_zone(deadline, zone)} (72 hours after the report).",
        "The Data Protection Officer has been told in Teams." if dpo_told else
        "The Data Protection Officer could not be told automatically: please tell them now.",
        "",
        "The full report is on the triage card in the governance and IT security channels in Teams.",
    ]
    return subject, "\n".join(lines)
