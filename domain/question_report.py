"""What staff ask, summed up for the governance team's review: volume per week, the sections most cited,
the questions the bot could not answer or that were rated not helpful (grouped by similar wording,
most frequent first), escalations still waiting, and the share answered without a person."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Sequence

from domain.records import QuestionGroup, QuestionRecord, QuestionsReport, WaitingEscalation
from domain.text_terms import stems

SIMILAR = 0.5  # share of words two questions must have in common (of all the words either uses) to be grouped


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_volume(asked: Sequence[datetime], start: date, end: date) -> list[tuple[date, int]]:
    counts = Counter(_monday(_utc(at).date()) for at in asked)
    weeks, week = [], _monday(start)
    while week <= end:
        weeks.append((week, counts.get(week, 0)))
        week += timedelta(days=7)
    return weeks


def group_similar(questions: Sequence[QuestionRecord]) -> list[QuestionGroup]:
    """Questions grouped with the first earlier one sharing at least SIMILAR of their words (stemmed, without
    the common ones); each group shown by its most recent wording, most frequent first."""
    groups: list[tuple[set[str], list[QuestionRecord]]] = []
    for question in sorted(questions, key=lambda q: _utc(q.asked_at)):
        terms = set(stems(question.text)) or {question.text.casefold()}
        match = next((members for words, members in groups
                      if len(words & terms) / len(words | terms) >= SIMILAR), None)
        if match is None:
            groups.append((terms, [question]))
        else:
            match.append(question)
    shown = [QuestionGroup(members[-1].text, len(members), _utc(members[-1].asked_at)) for _, members in groups]
    return sorted(shown, key=lambda g: (-g.count, -g.last_asked.timestamp()))


def most_cited(questions: Sequence[QuestionRecord], limit: int = 10) -> list[tuple[str, str, int]]:
    counts: Counter = Counter()
    titles: dict[str, str] = {}
    for question in questions:
        for section in {p.get("section") or p.get("title") or "" for p in question.passages} - {""}:
            counts[section] += 1
        for passage in question.passages:
            titles.setdefault(passage.get("section") or passage.get("title") or "", passage.get("title") or "")
    return [(section, titles.get(section, ""), n) for section, n in counts.most_common(limit)]


def unsure(question: QuestionRecord, below: float) -> bool:
    """Answered, but its best passage scored under `below` (the search's threshold plus its tentative margin), so the
    answer said it might not fit: where pairing the right passage (`policy-bot qa teach`) helps most."""
    if not question.answered or not question.passages:
        return False
    score = question.passages[0].get("score")
    return isinstance(score, (int, float)) and score < below


def build_report(questions: Sequence[QuestionRecord], waiting: Sequence[QuestionRecord], *,
                 since: datetime | None, now: datetime, unsure_below: float = 0.0) -> QuestionsReport:
    """`questions`: those asked since `since`; `waiting`: escalations no one has answered yet; `unsure_below`: the
    best passage's score under which an answer was tentative (domain.policy_search.tentative_below)."""
    first = min((_utc(q.asked_at) for q in questions), default=now)
    start = (since or first).date()
    return QuestionsReport(
        since=since, until=now, total=len(questions),
        weekly=weekly_volume([q.asked_at for q in questions], start, now.date()) if questions or since else [],
        sections=most_cited([q for q in questions if q.answered]),
        unanswered=group_similar([q for q in questions if not q.answered]),
        not_helpful=group_similar([q for q in questions if q.feedback == "not_helpful"]),
        waiting=sorted((WaitingEscalation(q.id, q.text, _utc(q.escalated_at), (now - _utc(q.escalated_at)).days,
                                           q.reference or "")
                        for q in waiting if q.escalated_at is not None), key=lambda w: w.escalated_at),
        answered_without_person=sum(q.answered and q.escalated_at is None for q in questions),
        unsure=group_similar([q for q in questions if unsure(q, unsure_below)]),
    )
