"""Cards for the approved-tools register."""

from __future__ import annotations

from microsoft_teams.cards import Container, Fact, FactSet

from cards.common import card, heading, para, safe, to_dict
from storage.records import Tool

STATUS_STYLE = {"approved": "good", "approved with conditions": "warning", "not approved": "attention"}


def tool_facts(tool: Tool) -> FactSet:
    facts = [Fact(title="Status", value=tool.status), Fact(title="Category", value=tool.category)]
    if tool.conditions:
        facts.append(Fact(title="Conditions", value=safe(tool.conditions)))
    if tool.approved_by:
        facts.append(Fact(title="Decided by", value=safe(tool.approved_by)))
    if tool.approved_on:
        facts.append(Fact(title="Decided on", value=tool.approved_on.isoformat()))
    if tool.review_due:
        facts.append(Fact(title="Review due", value=tool.review_due.isoformat()))
    return FactSet(facts=facts)


def build_tools_card(tools: list[Tool]) -> dict:
    if not tools:
        return to_dict(card([heading("Approved AI tools"), para("The register is empty: no AI tool is approved yet.")]))
    body = [heading("Approved AI tools"), para("Any tool not listed here is presumed unauthorised (policy section 4).", subtle=True)]
    for tool in tools:
        body.append(
            Container(
                style=STATUS_STYLE.get(tool.status, "default"),
                items=[para(f"**{safe(tool.name)}**"), tool_facts(tool)],
                spacing="Medium",
            )
        )
    return to_dict(card(body, fallback_text="Approved AI tools: " + ", ".join(safe(t.name) for t in tools)))


def tool_status_line(name: str, tool: Tool | None) -> str:
    if tool is None:
        return f"**{safe(name)}** is not on the approved tools list, so it is presumed unauthorised. Don't use it for council work unless it is approved first."
    if tool.status == "approved":
        return f"**{safe(tool.name)}** is approved ({tool.category})."
    if tool.status == "approved with conditions":
        return f"**{safe(tool.name)}** is approved with conditions: {safe(tool.conditions or 'see the register')}"
    reason = f" Reason: {safe(tool.conditions)}" if tool.conditions else ""
    return f"**{safe(tool.name)}** is **not approved** for council use.{reason}"
