"""Cards for the approved-tools register."""

from __future__ import annotations

from microsoft_teams.cards import Container, Fact, FactSet

from cards.common import card, heading, para, safe, to_dict
from cards.fit import Echo, fit
from domain.records import Tool

STATUS_STYLE = {"approved": "good", "approved with conditions": "warning", "not approved": "attention"}


def tool_facts(tool: Tool, echo: Echo) -> FactSet:
    facts = [Fact(title="Status", value=tool.status), Fact(title="Category", value=tool.category)]
    if tool.conditions:
        facts.append(Fact(title="Conditions", value=echo(tool.conditions, kept_with="the register; ask me about this tool")))
    if tool.approved_by:
        facts.append(Fact(title="Decided by", value=echo(tool.approved_by)))
    if tool.approved_on:
        facts.append(Fact(title="Decided on", value=tool.approved_on.isoformat()))
    if tool.review_due:
        facts.append(Fact(title="Review due", value=tool.review_due.isoformat()))
    return FactSet(facts=facts)


def build_tools_card(tools: list[Tool]) -> dict:
    if not tools:
        return to_dict(card([heading("Approved AI tools"), para("The register is empty: no AI tool is approved yet.")]))
    return fit(lambda echo: _tools_card(tools, echo))


def _tools_card(tools: list[Tool], echo: Echo) -> dict:
    body = [heading("Approved AI tools"), para("Any tool not listed here is presumed unauthorised (policy section 4).", subtle=True)]
    shown, more = echo.first(tools)
    for tool in shown:
        body.append(
            Container(
                style=STATUS_STYLE.get(tool.status, "default"),
                items=[para(f"**{echo(tool.name, kept_with='the register')}**"), tool_facts(tool, echo)],
                spacing="Medium",
            )
        )
    if more:
        body.append(para(f"… and {more} more on the register. Ask me about any tool by name, for example "
                         "*Is Copilot approved?*", subtle=True))
    return to_dict(card(body, fallback_text=f"Approved AI tools: {len(tools)} on the register"))


def tool_status_line(name: str, tool: Tool | None) -> str:
    if tool is None:
        return f"**{safe(name)}** is not on the approved tools list, so it is presumed unauthorised. Don't use it for council work unless it is approved first."
    if tool.status == "approved":
        return f"**{safe(tool.name)}** is approved ({tool.category})."
    if tool.status == "approved with conditions":
        return f"**{safe(tool.name)}** is approved with conditions: {safe(tool.conditions or 'see the register')}"
    reason = f" Reason: {safe(tool.conditions)}" if tool.conditions else ""
    return f"**{safe(tool.name)}** is **not approved** for council use.{reason}"
