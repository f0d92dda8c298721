"""Cards for policy answers: the quoted passages' buttons, a full section, and 'not covered'."""

from __future__ import annotations

import re

from microsoft_teams.cards import TextInput, ToggleInput

from cards.common import button, card, form_button, heading, para, safe, to_dict
from cards.verbs import (
    VERB_ASK_GOVERNANCE, VERB_FEEDBACK, VERB_REPORT_START, VERB_REQUEST_TOOL, VERB_RUN_COMMAND, VERB_SHOW_SECTION,
)
from cards.fit import fit

# A passage from the policy's reporting section (13 in the template) makes "Report an incident" one click away,
# and one from its section on requesting a tool (7.3) "Request a tool".
REPORTING_TITLE = re.compile(r"\b(incident|breach|reporting concerns)", re.IGNORECASE)
REQUESTING_TITLE = re.compile(r"\b(request|approval process|approving new)", re.IGNORECASE)


def citation_entity(hits: list[tuple[str, str, str]]) -> dict:
    """Teams citations: [n] markers in the text, each with its section title and passage on hover."""
    return {
        "type": "https://schema.org/Message",
        "@type": "Message",
        "@context": "https://schema.org",
        "@id": "",
        "citation": [
            {
                "@type": "Claim",
                "position": position,
                "appearance": {
                    "@type": "DigitalDocument",
                    "name": f"{section} {title}".strip()[:80],
                    "abstract": text[:160],
                    "keywords": [f"Section {section}"],
                },
            }
            for position, (section, title, text) in enumerate(hits, start=1)
        ],
    }


def _pass_on(title: str, comment_label: str, verb: str, data: dict):
    """A button opening the small form that passes a question to the governance team: a comment, and whether
    to leave one's name off the card they see."""
    inputs = [TextInput(id="comment", label=comment_label, is_multiline=True, max_length=1000),
              ToggleInput(id="anonymous", title="Don't show my name to the governance team", value_on="true",
                          value_off="false", value="false")]
    return form_button(title, inputs, "Send to the governance team", verb, data)


def _next_steps(question_id: int, titles: list[str], unregistered_tools: tuple[str, ...], tells_of_incident: bool) -> list:
    """The forms an answer leads to: a report (filled in, if the question told of an incident), a tool request."""
    steps = []
    if tells_of_incident:
        steps.append(_report_this(question_id))
    elif any(REPORTING_TITLE.search(title) for title in titles):
        steps.append(button("Report an incident", VERB_RUN_COMMAND, {"command": "report incident"}, style="positive"))
    requests = [button(f"Request approval for {name}"[:60], VERB_REQUEST_TOOL, {"tool_name": name}, style="positive")
                for name in unregistered_tools[:2]]
    if not requests and any(REQUESTING_TITLE.search(title) for title in titles):
        requests = [button("Request a tool", VERB_REQUEST_TOOL, {}, style="positive")]
    return steps + requests


def build_answer_actions_card(
    *, question_id: int, sections: list[tuple[str, str]], version_id: int | None,
    feedback: str | None = None, escalated: str | None = None, unregistered_tools: tuple[str, ...] = (),
    rating_buttons: bool = True, tells_of_incident: bool = False,
) -> dict:
    """The buttons under an answer; after a rating or a hand-over, the same card says so and keeps the rest.
    `escalated` is the question's reference once passed on. Where Teams' own feedback control is on the
    message, the card has no rating buttons (`rating_buttons`). A question that `tells_of_incident`
    (domain/incident_talk.py) gets a report form filled in with it."""
    sections = list(dict.fromkeys(sections[:3]))  # two passages from one section: one "Read section" button
    actions = _next_steps(question_id, [title for _number, title in sections], unregistered_tools, tells_of_incident) + [
        button(f"Read section {number}", VERB_SHOW_SECTION, {"section": number, "version": version_id})
        for number in dict.fromkeys(number for number, _title in sections)
    ]
    if feedback is None and rating_buttons:
        actions += [
            button("Helpful", VERB_FEEDBACK, {"question": question_id, "value": "helpful"}),
            _pass_on("Not helpful", "What were you looking for? (optional)", VERB_FEEDBACK,
                     {"question": question_id, "value": "not_helpful"}),
        ]
    if escalated is None:
        actions.append(_pass_on("Ask the governance team", "Anything to add? (optional)", VERB_ASK_GOVERNANCE,
                                {"question": question_id}))
    checking = " Quotes are from the current policy; check the full section before relying on it." if sections else ""
    body = [para(f"Was this what you needed?{checking}", subtle=True)]
    if tells_of_incident:
        body.insert(0, para(REPORT_IT, color="Attention"))
    if feedback == "helpful":
        body = [para("Thanks for your feedback: glad it helped.", color="Good")]
    elif feedback == "not_helpful":
        body = [para("Thanks for telling me. The governance team reviews unhelpful answers to improve the policy and this assistant.")]
    if escalated:
        body.append(para(f"You passed this question to the governance team ({escalated}); I'll send you their answer here."))
    return to_dict(card(body, actions or None, fallback_text="Read the full section, rate the answer, or ask the governance team."))


def question_of_answer(activity: dict) -> int | None:
    """The question an answer message was for, read back from its card's buttons (they carry its number)."""
    for attachment in activity.get("attachments") or []:
        for action in (attachment.get("content") or {}).get("actions") or []:
            data = action.get("data") or ((action.get("card") or {}).get("actions") or [{}])[0].get("data") or {}
            if data.get("verb") in (VERB_ASK_GOVERNANCE, VERB_FEEDBACK) and isinstance(data.get("question"), int):
                return data["question"]
    return None


def build_not_covered_card(*, question_id: int, authority_name: str, authority_contact: str) -> dict:
    body = [
        heading("The policy doesn't cover that"),
        para(
            "I couldn't find anything in the GenAI policy that answers this, and I'd rather say so than guess. "
            f"You can pass the question to {authority_name}, or contact them at {safe(authority_contact)}."
        ),
    ]
    actions = [_pass_on("Ask the governance team", "Anything to add? (optional)", VERB_ASK_GOVERNANCE,
                        {"question": question_id})]
    return to_dict(card(body, actions, fallback_text="The policy doesn't cover that."))


REPORT_IT = ("If this has happened, please report it now: the policy asks for AI incidents and breaches to be "
             "reported at once. **Report it now** gives you the report form, filled in with what you told me.")


def _report_this(question_id: int):
    return button("Report it now", VERB_REPORT_START, {"question": question_id}, style="positive")


def build_incident_prompt_card(*, question_id: int, authority_name: str) -> dict:
    """For a message that tells of an incident (domain/incident_talk.py) where the policy gave no passage to quote."""
    body = [
        heading("That sounds like something to report"),
        para(f"If this has happened, please report it now. Reports go straight to {safe(authority_name)} and the IT "
             "security team, who can help limit any harm. The form is filled in with what you told me; check it and "
             "add what you know."),
    ]
    actions = [_report_this(question_id),
               _pass_on("Ask the governance team", "Anything to add? (optional)", VERB_ASK_GOVERNANCE, {"question": question_id})]
    return to_dict(card(body, actions, fallback_text="That sounds like something to report: type report incident."))


def build_section_card(*, number: str, title: str, text: str, version_label: str | None) -> dict:
    """A whole policy section. `title` and `text` are markdown already (escaped by the caller)."""
    whole = f"the whole section is in the policy document{f', version {safe(version_label)}' if version_label else ''}"

    def draw(echo) -> dict:
        body = [heading(echo.markdown(f"{number} {title}".strip(), whole=whole)), para(echo.markdown(text, whole=whole))]
        if version_label:
            body.append(para(f"Policy version {echo(version_label)}", subtle=True))
        return to_dict(card(body, fallback_text=f"Section {number}"))

    return fit(draw)


def build_personal_data_warning_card(kinds: tuple[str, ...]) -> dict:
    found = ", ".join(kinds)
    body = [
        heading("Please don't share personal data here"),
        para(
            f"Your message looks like it contains personal data ({found}). Personal data must not go into AI tools, "
            "or into this chat. I have kept only a redacted copy of your question."
        ),
    ]
    return to_dict(card(body, fallback_text="Please don't share personal data here."))
