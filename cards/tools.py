"""Cards for the approved-tools register."""

from __future__ import annotations

from dataclasses import dataclass

from microsoft_teams.cards import Container, Fact, FactSet

from cards.common import card, heading, para, safe, to_dict
from cards.fit import Echo, fit
from domain.records import Tool

TITLE = "AI tools register"


@dataclass(frozen=True)
class StatusGroup:
    """One status of the register, with the words the card uses for it."""

    status: str
    heading: str
    style: str
    detail_label: str | None  # what a tool's `conditions` field means for this status
    shows_review: bool


GROUPS = (
    StatusGroup("approved", "Approved", "good", None, True),
    StatusGroup("approved with conditions", "Approved with conditions", "warning", "Conditions", True),
    StatusGroup("not approved", "Not approved: don't use these for council work", "attention", "Reason", False),
)


def tool_facts(tool: Tool, group: StatusGroup, echo: Echo) -> FactSet:
    facts = [Fact(title="Category", value=tool.category)]
    if tool.conditions and group.detail_label:
        facts.append(Fact(title=group.detail_label,
                          value=echo(tool.conditions, kept_with="the register; ask me about this tool")))
    if tool.approved_by:
        facts.append(Fact(title="Decided by", value=echo(tool.approved_by)))
    if tool.approved_on:
        facts.append(Fact(title="Decided on", value=tool.approved_on.isoformat()))
    if tool.review_due and group.shows_review:
        facts.append(Fact(title="Review due", value=tool.review_due.isoformat()))
    return FactSet(facts=facts)


def _grouped(tools: list[Tool]) -> list[tuple[StatusGroup, list[Tool]]]:
    known = {group.status for group in GROUPS}
    # a status the register doesn't know is never shown as approved
    found = [(group, [t for t in tools if t.status == group.status or (group.status == "not approved" and t.status not in known)])
             for group in GROUPS]
    return [(group, members) for group, members in found if members]


def _summary(groups: list[tuple[StatusGroup, list[Tool]]]) -> str:
    return ", ".join(f"{len(members)} {group.status}" for group, members in groups)


def build_tools_card(tools: list[Tool]) -> dict:
    if not tools:
        return to_dict(card([heading(TITLE), para("The register is empty: no AI tool is approved yet.")],
                            fallback_text=f"{TITLE}: empty"))
    return fit(lambda echo: _tools_card(tools, echo))


def _tools_card(tools: list[Tool], echo: Echo) -> dict:
    groups = _grouped(tools)
    body = [heading(TITLE), para("Any tool not listed here is presumed unauthorised (policy section 4).", subtle=True)]
    for group, members in groups:
        body.append(para(f"**{group.heading}** ({len(members)})", spacing="Large"))
        shown, more = echo.first(members)
        for tool in shown:
            body.append(
                Container(
                    style=group.style,
                    items=[para(f"**{echo(tool.name, kept_with='the register')}**"), tool_facts(tool, group, echo)],
                    spacing="Medium",
                )
            )
        if more:
            body.append(para(f"… and {more} more {group.status} on the register. Ask me about any tool by name, "
                             "for example *Is Copilot approved?*", subtle=True))
    return to_dict(card(body, fallback_text=f"{TITLE}: {_summary(groups)}"))


def tool_status_line(name: str, tool: Tool | None) -> str:
    if tool is None:
        return f"**{safe(name)}** is not on the approved tools list, so it is presumed unauthorised. Don't use it for council work unless it is approved first."
    if tool.status == "approved":
        return f"**{safe(tool.name)}** is approved ({tool.category})."
    if tool.status == "approved with conditions":
        return f"**{safe(tool.name)}** is approved with conditions: {safe(tool.conditions or 'see the register')}"
    reason = f" Reason: {safe(tool.conditions)}" if tool.conditions else ""
    return f"**{safe(tool.name)}** is **not approved** for council use.{reason}"
