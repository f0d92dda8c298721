"""The `questions` card for the governance team: what staff ask, for the policy review (policy 16)."""

from __future__ import annotations

from microsoft_teams.cards import Fact, FactSet, TextBlock

from cards.common import card, heading, para, safe, to_dict
from cards.fit import Echo, fit
from domain.records import QuestionGroup, QuestionsReport

WEEKS_SHOWN = 8
LISTED = 10


def build_questions_report_card(*, report: QuestionsReport) -> dict:
    return fit(lambda echo: _questions_card(report, echo), kept_with="the CSV report")


def _groups(title: str, groups: list[QuestionGroup], echo: Echo) -> list:
    if not groups:
        return [para(f"**{title}**: none.")]
    shown, _ = echo.first(groups[:LISTED])
    lines = [f"- {g.count}\u00d7 \u201c{echo(g.wording)}\u201d" for g in shown]
    if len(groups) > len(shown):
        lines.append(f"- and {len(groups) - len(shown)} more groups")
    return [para(f"**{title}** ({sum(g.count for g in groups)}, grouped by similar wording, most frequent first):"),
            para("\n".join(lines))]


def _questions_card(report: QuestionsReport, echo: Echo) -> dict:
    span = f"since {report.since:%d %b %Y}" if report.since else "since the bot started"
    oldest = f" (oldest {report.waiting[0].age_days} days)" if report.waiting else ""
    body = [
        heading(f"What staff asked {span}"),
        FactSet(facts=[
            Fact(title="Questions", value=str(report.total)),
            Fact(title="Answered without a person", value=f"{report.answered_without_person} "
                                                          f"({report.share_without_person:.0%})"),
            Fact(title="Escalations waiting", value=f"{len(report.waiting)}{oldest}"),
        ]),
        para("**Per week** (starting Monday):"),
        FactSet(facts=[Fact(title=f"{week:%d %b}", value=str(count)) for week, count in report.weekly[-WEEKS_SHOWN:]]
                or [Fact(title="No questions", value="0")]),
        para("**Sections most cited in answers**:"),
        para("\n".join(f"- {safe(section)} {safe(title)}: {count}" for section, title, count in report.sections[:LISTED])
             or "None yet."),
        *_groups("Not answered", report.unanswered, echo),
        *_groups("Rated not helpful", report.not_helpful, echo),
        *_groups("Answered, but unsure", report.unsure, echo),
    ]
    if report.unsure:
        body.append(para("Those answers told the asker they might not fit. Pairing the right passage with one "
                         "(policy-bot qa teach) makes later questions worded like it find that passage.", subtle=True))
    if report.waiting:
        shown, _ = echo.first(report.waiting[:LISTED])
        body.append(para("**Escalations waiting**, oldest first:"))
        body.append(para("\n".join(f"- {safe(w.named)}, {w.age_days} day(s): \u201c{echo(w.wording)}\u201d"
                                   for w in shown)))
        body.append(para("To answer one here, type **open question** and its reference."))
    body.append(TextBlock(text="Questions are shown as stored, with personal data taken out. Everything, for the "
                               "review: policy-bot report questions --csv FILE", wrap=True, is_subtle=True, size="Small"))
    return to_dict(card(body, fallback_text=f"{report.total} questions {span}"))
