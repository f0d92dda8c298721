"""The `questions` command: what staff ask, for the governance team (the route is governance only)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.services import Services
from bot.turn import Message, Turn
from cards.questions import build_questions_report_card
from domain.policy_search import tentative_below
from domain.question_report import build_report

REVIEW_DAYS = 365  # the policy is reviewed yearly (policy 16)


async def show_questions_report(turn: Turn, services: Services) -> None:
    now = datetime.now(timezone.utc)
    since = now - timedelta(days=REVIEW_DAYS)
    log = services.question_log
    index = (await services.library.current()).index
    report = build_report(await log.asked_since(since), await log.escalations_waiting(), since=since, now=now,
                          unsure_below=tentative_below(index.settings))
    await services.audit.append(turn.incoming.user_id, "report.viewed", "report:questions", {"questions": report.total})
    await turn.reply(Message(cards=[build_questions_report_card(report=report)], summary="What staff asked"))
