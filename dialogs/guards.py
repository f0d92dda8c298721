"""Route middleware: who may use a route, and the one way a refusal is answered.

A guard runs before its route's handler (see `Route.guard` in bot/router.py), in the way of
bolt-python's listener middleware: it lets the turn through, or refuses it and says so. Every
refusal goes through `refuse()`, so each one is written to the audit trail as `role.refused` and
answered with a notice in the same way. Checks that need the stored record (a requester can't
decide their own request; a reporter may see their own incident) stay in their handler, which
calls `refuse()` too.
"""

from __future__ import annotations

import re

from dataclasses import dataclass
from typing import Awaitable, Callable, TypeVar, Union

from bot.microsoft.approvers import DirectoryUnavailable
from bot.services import Services
from bot.settings import Settings
from bot.turn import Message, Turn
from cards.common import button, notice_card, safe
from cards.verbs import VERB_RUN_COMMAND
from storage.channels import PURPOSES

Notice = Union[str, Message, dict]  # a reply (text or message), or a card shown in place of the clicked one


async def refuse(turn: Turn, services: Services, subject: str, notice: Notice, *, detail: dict | None = None,
                 as_invoke_response: bool = False) -> None:
    """Audit the refusal, then answer: a card replaces the clicked card (or, with `as_invoke_response`,
    is the invoke's own answer, as a Universal Actions refresh needs); text or a message is a reply."""
    await services.audit.append(turn.incoming.user_id, "role.refused", subject, detail or {})
    if as_invoke_response and isinstance(notice, dict):
        turn.respond_with_card(notice)
    elif isinstance(notice, dict):
        await turn.show(notice)
    else:
        await turn.reply(notice)


# A record's reference as people type it: Q- for a question passed on, REQ- a tool request, INC- an incident.
TYPED_REFERENCE = re.compile(r"\b(?:Q|REQ|INC)-\d{4}-\d{1,6}\b", re.IGNORECASE)


def reference(turn: Turn) -> str:
    """The record a card action names (REQ-, INC- or Q-), or a reference typed after a command ("open request
    REQ-2026-0001"); card actions carry no typed argument, so for them it is the data's alone."""
    typed = TYPED_REFERENCE.search(turn.argument)
    return str(turn.incoming.data.get("reference") or (typed.group(0).upper() if typed else ""))[:20]


def action(turn: Turn) -> str:
    value = turn.incoming.data.get("action")
    return value if isinstance(value, str) else ""


def _attempted(turn: Turn) -> dict:
    """What a refused member-only turn tried: the card's action, or "open" for the typed "open …" commands."""
    return {"action": action(turn)[:40] if turn.incoming.is_card_action else "open"}


R = TypeVar("R")


async def named_record(turn: Turn, get: Callable[[str], Awaitable[R | None]], title: str, noun: str) -> R | None:
    """The record the clicked card names (its `reference`); None after saying there is no such `noun`."""
    name = reference(turn)
    found = await get(name)
    if found is None:
        await turn.show(notice_card(title, f"There is no {noun} {safe(name)}."))
    return found


async def typed_record(turn: Turn, get: Callable[[str], Awaitable[R | None]], *, command: str, example: str, noun: str,
                       where: str) -> R | None:
    """The record a typed command names ("open request REQ-2026-0001"); None after saying how to name one (and
    `where` references are found), or that no `noun` has that reference."""
    name = reference(turn)
    if not name:
        await turn.reply(f"Type {command} and the reference, for example: {command} {example}. {where}")
        return None
    found = await get(name)
    if found is None:
        await turn.show(notice_card("Reference not found", f"No {noun} has the reference {safe(name)}."))
    return found


Membership = Callable[[Services, str], Awaitable[bool]]  # is this user in the role? (may ask a directory)


def listed(ids: Callable[[Settings], frozenset[str]]) -> Membership:
    """A role whose members are listed in the settings (ADMIN_IDS, GOVERNANCE_IDS, …)."""
    async def is_member(services: Services, user_id: str) -> bool:
        return user_id in ids(services.settings)
    return is_member


async def is_approver(services: Services, user_id: str) -> bool:
    """APPROVER_IDS and the members of the Entra ID group APPROVER_GROUP_ID: the check deciding a request makes."""
    return await services.approvers.is_approver(user_id)


# Who is in each team: one definition, for every guard of that team and for the help card (dialogs/help.py).
GOVERNANCE_MEMBERS = listed(lambda settings: settings.governance_ids)
TRIAGE_MEMBERS = listed(lambda settings: settings.governance_ids | settings.security_ids)  # governance and IT security


@dataclass(frozen=True)
class RoleGuard:
    """Lets only the members of a role through to the handler; refuses everyone else once, here."""

    members: Membership
    subject: Callable[[Turn], str | None]  # what was refused; None: not a case for refusing, the handler answers
    notice: Callable[[], Notice]
    detail: Callable[[Turn], dict] = lambda turn: {}

    async def __call__(self, turn: Turn, services: Services) -> bool:
        subject = self.subject(turn)
        if subject is None:
            return True
        try:
            if await self.members(services, turn.incoming.user_id):
                return True
        except DirectoryUnavailable:  # not a refusal: nobody can tell yet whether they may
            await turn.reply("I couldn't check who may do this just now (the directory did not answer), so nothing "
                             "was done. Please try again in a minute.")
            return False
        await refuse(turn, services, subject, self.notice(), detail=self.detail(turn))
        return False


def _registered_purpose(turn: Turn) -> str | None:
    # "register" with no known purpose is answered by the handler ("Register what?") before anyone is refused.
    purpose = turn.argument.lower()
    return f"channel:{purpose}" if purpose in PURPOSES else None


ADMINS_ONLY = RoleGuard(
    members=listed(lambda settings: settings.admin_ids),
    subject=_registered_purpose,
    detail=lambda turn: {"action": "register"},
    notice=lambda: "Only administrators of this bot can register channels. Ask your Teams or GenAI administrator.",
)

GOVERNANCE_ONLY = RoleGuard(
    members=GOVERNANCE_MEMBERS,
    subject=lambda turn: "report:acknowledgements",
    notice=lambda: Message(
        text="The acknowledgement report is for the GenAI governance team. Did you want to report an incident?",
        cards=[notice_card("Report an incident?", "Press the button to open the incident form.",
                           [button("Report an incident", VERB_RUN_COMMAND, {"command": "report incident"})])],
    ),
)

GOVERNANCE_ANSWERERS_ONLY = RoleGuard(
    members=GOVERNANCE_MEMBERS,
    subject=lambda turn: f"question:{reference(turn)}",
    detail=_attempted,
    notice=lambda: notice_card("You can't answer this question",
                               "Only members of the GenAI governance team can answer questions passed to them."),
)

QUESTIONS_REPORT_GOVERNANCE_ONLY = RoleGuard(
    members=GOVERNANCE_MEMBERS,
    subject=lambda turn: "report:questions",
    notice=lambda: "The questions report is for the GenAI governance team. Ask me a policy question in your own words, "
                   "or type **help** to see what I can do.",
)

TRIAGE_MEMBERS_ONLY = RoleGuard(
    members=TRIAGE_MEMBERS,
    subject=lambda turn: f"incident:{reference(turn)}",
    detail=_attempted,
    notice=lambda: notice_card("You can't act on incident reports",
                               "Only members of the GenAI governance and IT security teams can triage incidents."),
)

APPROVERS_ONLY = RoleGuard(
    members=is_approver,
    subject=lambda turn: f"approval:{reference(turn)}",
    detail=_attempted,
    notice=lambda: notice_card("You can't open tool requests",
                               "Only the approvers of AI tool requests can open a request's card to decide it."),
)

PENDING_REQUESTS_APPROVERS_ONLY = RoleGuard(
    members=is_approver,
    subject=lambda turn: "report:pending-requests",
    notice=lambda: "The list of tool requests waiting is for the approvers of AI tool requests. To see your own "
                   "requests, type **my requests**.",
)

OPEN_INCIDENTS_TRIAGE_ONLY = RoleGuard(
    members=TRIAGE_MEMBERS,
    subject=lambda turn: "report:open-incidents",
    notice=lambda: "The list of open incidents is for the GenAI governance and IT security teams. To report one, "
                   "type **report incident**; to see your own reports, type **my reports**.",
)
