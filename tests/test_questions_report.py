"""What staff ask, for the review: the `questions` card over HTTP for governance members (refused and
audited for others), `policy-bot report questions` with its CSV, and the grouping of similar wording."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from contextlib import AsyncExitStack
from support.activities import activity, card_action, message
from support.bots import make_settings, running_bot
from domain.question_report import build_report, group_similar
from domain.records import QuestionRecord

GOV = "aad-gov"
BIN = Path(sys.executable).parent / "policy-bot"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
async def bot(tmp_path):
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", governance_ids=GOV)
    runner = AsyncExitStack()
    running = await runner.enter_async_context(running_bot(settings))
    running.database_url = settings.database_url
    yield running
    await runner.aclose()


def buttons(card: dict) -> dict[str, dict]:
    """Each button's data; for a button that opens a small form, the data of the form's own button."""
    return {a["title"]: a["card"]["actions"][0]["data"] if a["type"] == "Action.ShowCard" else a["data"]
            for a in card.get("actions", [])}


async def ask(bot, connector, text: str) -> dict:
    """The last message the bot sent for a question: the answer, or the not-covered card."""
    before = len(connector.activities())
    await bot.post(message(connector, text))
    return (await connector.wait_for(before + 1))[-1]


async def staff_questions(bot, connector) -> None:
    await ask(bot, connector, "hello")
    answered = await ask(bot, connector, "Can I use AI to screen job applications?")
    actions = buttons(answered["attachments"][0]["content"])
    # In Teams the rating is Teams' own feedback control; the card's verb stays for the terminal chat.
    question = actions["Ask the governance team"]["question"]
    await bot.post(card_action(connector, "qa.feedback", {"question": question, "value": "not_helpful"}))
    await bot.post(card_action(connector, "qa.escalate", actions["Ask the governance team"]))
    await ask(bot, connector, "what is on the canteen menu this week? ask jane.doe@testshire.gov.uk")
    await ask(bot, connector, "what is on the canteen menu this week")
    await ask(bot, connector, "when is the car park being resurfaced")


async def governance_says(bot, connector, text: str, user: str) -> dict:
    before = len(connector.activities())
    await bot.post(activity("message-channel", connector, text=f"<at>Test Bot</at> {text}", user=user))
    return (await connector.wait_for(before + 1))[-1]


async def test_the_questions_card_shows_governance_members_what_staff_asked(bot, connector):
    await staff_questions(bot, connector)
    card = (await governance_says(bot, connector, "questions", GOV))["attachments"][0]["content"]
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts == {"Questions": "4", "Answered without a person": "0 (0%)", "Escalations waiting": "1 (oldest 0 days)"}
    text = json.dumps(card, ensure_ascii=False)
    assert "7.2 Prohibited uses: 1" in text
    assert "Not answered** (3, grouped by similar wording" in text
    assert text.index("2× “what is on the canteen menu this week”") < text.index("1× “when is the car park")
    assert "Rated not helpful** (1" in text and "jane.doe" not in text


async def test_the_questions_card_is_refused_and_audited_for_anyone_else(bot, connector):
    refused = await governance_says(bot, connector, "questions", "aad-staff")
    assert "The questions report is for the GenAI governance team" in refused["text"]
    entries = await bot.services.audit.entries("report:questions")
    assert [(e.actor, e.action) for e in entries] == [("aad-staff", "role.refused")]


async def report_questions(bot, csv_path: Path) -> str:
    """`policy-bot report questions --csv csv_path` against the bot's database: what it printed."""
    process = await asyncio.create_subprocess_exec(
        str(BIN), "report", "questions", "--csv", str(csv_path), env={**os.environ, "DATABASE_URL": bot.database_url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = (part.decode() for part in await process.communicate())
    assert process.returncode == 0, stderr
    return stdout


async def test_report_questions_prints_and_writes_every_figure_redacted(bot, connector, tmp_path):
    await staff_questions(bot, connector)
    out = tmp_path / "questions.csv"
    stdout = await report_questions(bot, out)
    assert stdout.startswith("Questions asked since ") and ": 4; answered without a person: 0 (0%)" in stdout
    assert "     2×  “what is on the canteen menu this week”" in stdout
    assert "Escalations waiting: 1" in stdout and "jane.doe" not in stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    kinds = {(r["kind"], r["item"], r["count"]) for r in rows}
    assert {("asked", "total", "4"), ("section", "7.2", "1"), ("not_answered", "what is on the canteen menu this week", "2"),
            ("not_helpful", "Can I use AI to screen job applications?", "1")} <= kinds
    assert "jane.doe" not in out.read_text(encoding="utf-8")


async def test_answers_that_said_they_might_not_fit_are_listed_for_teaching(bot, connector, tmp_path):
    index = (await bot.services.library.current()).index
    unsure, sure = "Can the AI decide if someone gets housing benefit?", "Can I use AI to screen job applications?"
    assert index.search(unsure).tentative and not index.search(sure).tentative
    for text in ("hello", unsure, sure):
        await ask(bot, connector, text)
    card = json.dumps((await governance_says(bot, connector, "questions", GOV))["attachments"][0]["content"],
                      ensure_ascii=False)
    assert "Answered, but unsure** (1, grouped" in card and f"1× “{unsure}”" in card and "screen job" not in card

    out = tmp_path / "questions.csv"
    stdout = await report_questions(bot, out)
    assert "Answered, but unsure" in stdout
    rows = {(r["kind"], r["item"], r["count"]) for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert ("answered_unsure", unsure, "1") in rows and not any(item == sure for _, item, _ in rows)


def test_report_questions_refuses_a_date_it_cannot_read(tmp_path):
    result = CliRunner().invoke(app, ["report", "questions", "--since", "last tuesday"],
                                env={"DATABASE_URL": f"sqlite:///{tmp_path}/b.db"})
    assert result.exit_code == 2 and "--since: give a date as YYYY-MM-DD" in result.stderr


def record(n: int, text: str, *, days_ago: float, answered: bool = False, feedback: str | None = None) -> QuestionRecord:
    return QuestionRecord(id=n, user_id="u", asked_at=NOW - timedelta(days=days_ago), text=text, redacted=False,
                          answered=answered, feedback=feedback)


def test_similar_wordings_are_grouped_and_the_most_frequent_come_first():
    questions = [record(1, "can I use copilot for minutes", days_ago=9), record(2, "where is the canteen", days_ago=8),
                 record(3, "Can I use Copilot for the minutes?", days_ago=3), record(4, "copilot for minutes ok?", days_ago=1)]
    groups = group_similar(questions)
    assert [(g.wording, g.count) for g in groups] == [("copilot for minutes ok?", 3), ("where is the canteen", 1)]


def test_weeks_without_questions_are_counted_as_none():
    report = build_report([record(1, "a question", days_ago=15)], [], since=NOW - timedelta(days=20), now=NOW)
    assert [count for _, count in report.weekly] == [0, 1, 0, 0]
    assert all(week.weekday() == 0 for week, _ in report.weekly)
