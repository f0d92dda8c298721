"""Cards for policy acknowledgement: the prompt, reading section by section, status and the report."""

from __future__ import annotations

from datetime import datetime

from microsoft_teams.cards import DonutChart, DonutChartData, Fact, FactSet, TextBlock

from cards.common import button, card, heading, para, safe, to_dict
from cards.verbs import VERB_ACKNOWLEDGE, VERB_READ
from cards.fit import Echo, fit
from domain.acknowledgements import KEY_RULES, SectionChange
from domain.policy_parse import Section
from domain.times import card_day, card_when


def build_acknowledge_card(*, version_id: int, version_label: str, changes: list[SectionChange] | None,
                           last_label: str | None) -> dict:
    return fit(lambda echo: _acknowledge_card(version_id, version_label, changes, last_label, echo),
               kept_with="the policy document")


def _acknowledge_card(version_id: int, version_label: str, changes: list[SectionChange] | None, last_label: str | None,
                      echo: Echo) -> dict:
    body = [heading(f"Please confirm you have read the GenAI policy (version {echo(version_label)})")]
    if changes is not None and last_label:
        body.append(para(f"The policy has changed since version {echo(last_label)}, which you acknowledged:"))
        shown, _ = echo.first(changes[:15])
        lines = [f"- Section {echo(c.number)} {echo(c.title)}: {c.kind}" for c in shown] or ["- Wording changes only"]
        if len(changes) > len(shown):
            lines.append(f"- and {len(changes) - len(shown)} more")
        body.append(para("\n".join(lines)))
    body.append(para("The key rules:"))
    body.append(para("\n".join(f"- {rule}" for rule in KEY_RULES)))
    body.append(para("By using AI tools for council work you confirm you have read and understood the policy (section 17).",
                     subtle=True))
    actions = [
        button("Read the policy", VERB_READ, {"position": 0, "version": version_id}),
        button("I have read and understood the policy", VERB_ACKNOWLEDGE, {"version": version_id}, style="positive"),
    ]
    return to_dict(card(body, actions, fallback_text=f"Please acknowledge the GenAI policy version {version_label}"))


def build_policy_page_card(*, section: Section, position: int, total: int, version_id: int, version_label: str) -> dict:
    return fit(lambda echo: _policy_page_card(section, position, total, version_id, version_label, echo),
               kept_with=f"the policy document, version {version_label}")


def _policy_page_card(section: Section, position: int, total: int, version_id: int, version_label: str,
                      echo: Echo) -> dict:
    body = [
        heading(f"{echo(section.number)} {echo(section.title)}".strip()),
        para(echo(section.full_text()) or "(This section has only sub-sections.)"),
        para(f"Section {position + 1} of {total} · policy version {echo(version_label)}", subtle=True),
    ]
    actions = []
    if position > 0:
        actions.append(button("Previous", VERB_READ, {"position": position - 1, "version": version_id}))
    if position + 1 < total:
        actions.append(button("Next", VERB_READ, {"position": position + 1, "version": version_id}))
    actions.append(button("I have read and understood the policy", VERB_ACKNOWLEDGE, {"version": version_id}, style="positive"))
    return to_dict(card(body, actions, fallback_text=f"Policy section {section.number}"))


def build_acknowledged_card(*, version_label: str, at: datetime, first: bool) -> dict:
    lead = "Thank you." if first else "You had already acknowledged this version."
    body = [heading("Policy acknowledged"),
            para(f"{lead} Recorded: version {safe(version_label)} on {card_when(at)}.")]
    return to_dict(card(body, fallback_text="Policy acknowledged"))


def build_status_card(*, current_label: str | None, acknowledged: tuple[str, datetime] | None, current_done: bool,
                      open_reports: list[str], open_requests: list[str] = ()) -> dict:
    return fit(lambda echo: _status_card(current_label, acknowledged, current_done, list(open_reports),
                                         list(open_requests), echo))


def _listed(references: list[str], echo: Echo, more: str) -> str:
    shown, hidden = echo.first(references)
    return ", ".join(shown) + (f" and {hidden} more: type **{more}**" if hidden else "") if references else "none"


def _status_card(current_label: str | None, acknowledged: tuple[str, datetime] | None, current_done: bool,
                 open_reports: list[str], open_requests: list[str], echo: Echo) -> dict:
    if acknowledged:
        ack = f"version {safe(acknowledged[0])} on {card_day(acknowledged[1])}"
    else:
        ack = "not yet"
    facts = [
        Fact(title="Current policy", value=safe(current_label or "none published")),
        Fact(title="You acknowledged", value=ack),
        Fact(title="Up to date", value="Yes" if current_done else "No: type **acknowledge**"),
        Fact(title="Open incident reports", value=_listed(open_reports, echo, "my reports")),
        Fact(title="Tool requests awaiting a decision", value=_listed(open_requests, echo, "my requests")),
    ]
    return to_dict(card([heading("Your status"), FactSet(facts=facts)], fallback_text="Your status"))


def build_ack_report_card(*, current_label: str, done: int, total: int, previous: tuple[str, int, int] | None) -> dict:
    outstanding = total - done
    share = f"{done / total:.0%}" if total else "n/a"
    body = [
        heading(f"Policy acknowledgements: version {safe(current_label)}"),
        DonutChart(title="Acknowledged vs outstanding", data=[
            DonutChartData(legend="Acknowledged", value=done, color="good"),
            DonutChartData(legend="Outstanding", value=outstanding, color="attention"),
        ], value=share, show_legend=True),
        FactSet(facts=[
            Fact(title="Acknowledged", value=f"{done} of {total} ({share})"),
            Fact(title="Outstanding", value=str(outstanding)),
        ]),
    ]
    if previous:
        label, prev_done, prev_total = previous
        prev_share = f"{prev_done / prev_total:.0%}" if prev_total else "n/a"
        body.append(para(f"Previous version {safe(label)}: {prev_done} of {prev_total} ({prev_share}).", subtle=True))
    body.append(TextBlock(text="Counts people the bot can reach (it has a 1:1 chat with them). "
                               "Export: policy-bot report acknowledgements --csv FILE", wrap=True, is_subtle=True, size="Small"))
    return to_dict(card(body, fallback_text=f"{done} of {total} acknowledged version {current_label}"))


def build_reminder_text(version_label: str) -> str:
    return (f"Reminder: please read and acknowledge the GenAI policy, version **{version_label}**. "
            "Type **acknowledge** to see the key rules and confirm.")
