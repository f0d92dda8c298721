"""Cards for questions passed to the governance team: the card they answer on, the asker's receipt, and the reply."""

from __future__ import annotations

from typing import Sequence

from microsoft_teams.cards import Choice, ChoiceSetInput, Fact, FactSet, TextInput

from cards.common import button, card, form_button, heading, para, refresh_for, safe, to_dict
from cards.fit import Echo, fit
from cards.routing import Route, routing_text
from cards.verbs import VERB_ESCALATION_REFRESH, VERB_RESPOND
from domain.escalations import LIMITS, REASONS, STATUSES
from domain.records import QuestionRecord
from domain.times import card_when



def build_escalation_card(question: QuestionRecord, *, member_view: bool = True,
                          refresh_user_ids: list[str] | None = None) -> dict:
    """The card the governance team answers on. In a channel everyone sees it read-only and Teams refreshes it
    for the team's members (Universal Actions), who get the buttons; in a member's 1:1 chat the buttons are on it.
    Once answered it shows the answer to everyone, with no buttons."""
    return fit(lambda echo: _escalation_card(question, echo, member_view, refresh_user_ids), kept_with=question.reference)


def _escalation_card(question: QuestionRecord, echo: Echo, member_view: bool, refresh_user_ids: list[str] | None) -> dict:
    body = [heading(f"Staff question {question.reference}"), _facts(question, echo),
            para(f"\u201c{echo(question.text)}\u201d")]
    if question.escalation_comment:
        body.append(para(f"Their comment: {echo(question.escalation_comment)}"))
    body += _offered(question, echo)
    body += _outcome(question, echo)
    refresh = None
    actions = []
    if question.waiting and member_view:
        actions = _responses(question)
    elif question.waiting:
        body.append(para("The GenAI governance team answers this question here.", subtle=True))
    if question.waiting and refresh_user_ids is not None:
        refresh = refresh_for(VERB_ESCALATION_REFRESH, {"reference": question.reference}, refresh_user_ids)
    return to_dict(card(body, actions, refresh=refresh, fallback_text=f"Staff question {question.reference}"))


def _facts(question: QuestionRecord, echo: Echo) -> FactSet:
    asker = "Anonymous (they chose not to be named)" if question.anonymous else echo(question.asker_name or question.user_id)
    facts = [
        Fact(title="Reference", value=question.reference or ""),
        Fact(title="Asked by", value=asker),
        Fact(title="Asked", value=card_when(question.asked_at)),
        Fact(title="Why it is here", value=f"They {REASONS.get(question.escalation_reason or 'asked', 'asked for a person')}"),
        Fact(title="Status", value=STATUSES.get(question.escalation_status or "waiting", "")),
    ]
    return FactSet(facts=facts)


def _offered(question: QuestionRecord, echo: Echo) -> list:
    if not question.passages:
        return [para("The bot found no passage of the policy that answers it.", subtle=True)]
    lines = [f"{n}. **{safe(p.get('section'))} {echo(p.get('title'))}**: \u201c{echo(_snippet(p))}\u201d"
             for n, p in enumerate(question.passages, start=1)]
    return [para("Passages the bot offered:", subtle=True), para("\n".join(lines))]


def _snippet(passage: dict) -> str:
    """Enough of an offered passage to tell it from others of the same section."""
    text = " ".join(str(passage.get("text") or "").split())
    return text if len(text) <= 120 else text[:117].rstrip() + "..."


def _responses(question: QuestionRecord) -> list:
    data = {"reference": question.reference, "version": question.version}
    choices = [Choice(title=f"{n}. {p.get('section')} {p.get('title')}: {_snippet(p)}"[:160], value=str(n))
               for n, p in enumerate(question.passages, start=1)]
    passage_inputs = [ChoiceSetInput(id="passage", label="One of the passages offered", choices=choices)] if choices else []
    passage_inputs.append(TextInput(id="search", label="Or a section number, or a few words to search the current policy for",
                                    placeholder="e.g. 7.2, or approved tools register", max_length=LIMITS["search"]))
    return [
        form_button("This passage answers it", passage_inputs, "Send this passage", VERB_RESPOND,
                    {**data, "action": "passage"}),
        form_button("Write an answer", [TextInput(
            id="answer", label="Your answer (they see it as a reply from you, not as the policy)", is_multiline=True,
            is_required=True, max_length=LIMITS["answer"])], "Send the answer", VERB_RESPOND, {**data, "action": "answer"}),
        button("Not covered by the policy", VERB_RESPOND, {**data, "action": "not_covered"}),
        form_button("Not a policy question", [TextInput(
            id="pointer", label="Where to ask instead (optional)", placeholder="e.g. ask the IT service desk",
            max_length=LIMITS["pointer"])], "Send", VERB_RESPOND, {**data, "action": "not_policy"}),
    ]


def _outcome(question: QuestionRecord, echo: Echo) -> list:
    if question.waiting or not question.response:
        return []
    who = echo(question.responder_name or "A member of the governance team")
    when = card_when(question.responded_at) if question.responded_at else ""
    response = question.response
    lines = {
        "passage": f"**{who}** ({when}) chose section **{safe(response.get('section'))} {safe(response.get('title'))}**: "
                   f"\u201c{echo(response.get('text'))}\u201d",
        "answer": f"**{who}** ({when}) replied: {echo(response.get('text'))}",
        "not_covered": f"**{who}** ({when}) marked it as not covered by the policy. It is flagged for the next review.",
        "not_policy": f"**{who}** ({when}) marked it as not a policy question."
                      + (f" Pointer: {echo(response.get('text'))}" if response.get("text") else ""),
    }
    return [para(lines.get(question.escalation_status or "", ""), color="Good")]


def build_escalation_receipt_card(question: QuestionRecord, *, routes: Sequence[Route], contact: str,
                                  authority_name: str) -> dict:
    """What the asker is told: where the question went (from the outbox entries created), in plain words."""
    where, act = routing_text(routes, contact=contact, reference=question.reference or "")

    def draw(echo: Echo) -> dict:
        named = "without your name" if question.anonymous else "with your name"
        body = [
            heading(f"Passed to the governance team: {question.reference}"),
            para(f"Your question is saved for {safe(authority_name)}, {named}. {where if not act else ''}".rstrip()),
            *([para(where, color="Attention")] if act else []),
            para("I'll send you their answer here.", subtle=True),
            para(f"\u201c{echo(question.text)}\u201d", subtle=True),
        ]
        return to_dict(card(body, fallback_text=f"Passed to the governance team: {question.reference}"))

    return fit(draw, kept_with=question.reference or "")


def build_already_passed_on_card(question: QuestionRecord) -> dict:
    when = card_when(question.escalated_at) if question.escalated_at else ""
    status = STATUSES.get(question.escalation_status or "waiting", "")
    return to_dict(card([heading(f"Already passed on: {question.reference}"),
                         para(f"You passed this question to the governance team on {when}. Status: {status}.")],
                        fallback_text=f"Already passed on: {question.reference}"))


def build_response_text(question: QuestionRecord, *, authority_name: str) -> str:
    """The asker's 1:1 message. A written answer is a reply from the named person, never a quote of the policy."""
    response = question.response or {}
    who = safe(question.responder_name or f"A member of {authority_name}")
    start = f"About your question **{question.reference}** (\u201c{safe(question.text[:300])}\u201d):"
    if question.escalation_status == "passage":
        return (f"{start} {who} says this passage of the policy answers it.\n\n"
                f"**{safe(response.get('section'))} {safe(response.get('title'))}** [1]: \u201c{safe(response.get('text'))}\u201d")
    if question.escalation_status == "answer":
        return f"{start} {who} replied, in their own words (this is not a quote of the policy):\n\n{safe(response.get('text'))}"
    if question.escalation_status == "not_covered":
        return (f"{start} {who} says the GenAI policy doesn't cover this yet. It is flagged for the next review of "
                f"the policy. Until then, ask {safe(authority_name)} before going ahead.")
    pointer = f" They suggest: {safe(response.get('text'))}" if response.get("text") else ""
    return f"{start} {who} says this isn't a question about the GenAI policy.{pointer}"
