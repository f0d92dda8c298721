"""`policy-bot qa` and `policy publish` with pairings and a question bank, run through the command line
(typer's runner, in this process) on a real SQLite database."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from domain import EXAMPLE_POLICY_PATH

POLICY = EXAMPLE_POLICY_PATH.read_text(encoding="utf-8")
BADLY_ANSWERED = "is there a list of the good apps"
BANK = """question,expected
is there a list of the good apps,4
Can I use ChatGPT to draft a press release?,7.1
How quickly do we have to tell the ICO about a data leak?,13
what's on the canteen menu this week,not covered
Do I need a DPIA before using AI on personal data?,10.4; 10.3
"""


@pytest.fixture
def cli(tmp_path):
    runner = CliRunner()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", "LOG_LEVEL": "WARNING"}

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def published(cli, tmp_path):
    assert cli("policy", "publish", EXAMPLE_POLICY_PATH, "--version", "1", "--no-remind").exit_code == 0
    return cli


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def first_section(cli, question: str) -> str | None:
    payload = json.loads(cli("ask", "--json", question).stdout)
    return payload["results"][0]["section"] if payload["answered"] else None


def test_teach_list_and_forget_change_what_ask_answers(published):
    assert first_section(published, BADLY_ANSWERED) is None
    taught = published("qa", "teach", BADLY_ANSWERED, "--section", "4", "--passage", "1", "--by", "gov")
    assert taught.exit_code == 0 and taught.stdout.startswith("pairing 1: ") and "Only GenAI tools" in taught.stdout
    assert first_section(published, "is there a list of good apps anywhere") == "4"
    listed = published("qa", "list").stdout
    assert listed.startswith("1\t4 passage 1\t") and BADLY_ANSWERED in listed
    assert published("qa", "forget", "1").exit_code == 0
    assert first_section(published, BADLY_ANSWERED) is None
    again = published("qa", "forget", "1")
    assert again.exit_code == 2 and "there is no pairing 1" in again.stderr


def test_teach_refuses_a_passage_the_section_does_not_have(published):
    result = published("qa", "teach", BADLY_ANSWERED, "--section", "4", "--passage", "9")
    assert result.exit_code == 2 and result.stderr.strip() == (
        "policy-bot: section 4 has 5 passage(s); choose a passage from 1 to 5")


def test_an_import_with_bad_rows_names_each_and_imports_nothing(published, tmp_path):
    bad = write(tmp_path / "bad.csv", "Question,Section,Passage\nwhere is the register kept,4,4\n,4,\n"
                                      "how long do we keep prompts,10.2,x\nwho do I tell,99,\n")
    result = published("qa", "import", bad)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "row 3: the question is empty",
        "row 4: passage must be a number from 1 (or empty for the closest), not \u201cx\u201d",
        "row 5: the current policy has no section 99",
        "policy-bot: bad.csv: nothing imported; 3 row(s) need fixing first",
    ]
    assert "no pairings taught" in published("qa", "list").stdout


def test_an_import_without_the_columns_is_refused_in_one_line(published, tmp_path):
    result = published("qa", "import", write(tmp_path / "p.csv", "q,s\nhello,4\n"))
    assert result.exit_code == 2 and "question, section missing" in result.stderr


def test_export_then_import_into_another_database_keeps_the_pairings(published, tmp_path):
    good = write(tmp_path / "good.csv", "question,section,passage\nwhere is the register kept,4,4\n"
                                        "how long do we keep prompts,10.2,\n")
    first = published("qa", "import", good)
    assert first.stdout.splitlines() == ["row 2: taught as pairing 1 (4, passage 4)",
                                         "row 3: taught as pairing 2 (10.2, passage 1)",
                                         "imported 2 new pairing(s) from 2 row(s)"]
    assert "row 2: already taught as pairing 1" in published("qa", "import", good).stdout
    exported = tmp_path / "out.csv"
    assert published("qa", "export", exported).exit_code == 0
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert [(r["question"], r["section"], r["passage"]) for r in rows] == [
        ("where is the register kept", "4", "4"), ("how long do we keep prompts", "10.2", "1")]
    other = CliRunner()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/other.db", "LOG_LEVEL": "WARNING"}
    assert other.invoke(app, ["policy", "publish", str(EXAMPLE_POLICY_PATH), "--version", "1", "--no-remind"],
                        env=env).exit_code == 0
    assert "imported 2 new pairing(s)" in other.invoke(app, ["qa", "import", str(exported)], env=env).stdout


def test_qa_test_scores_the_bank_exits_below_the_minimum_and_its_misses_teach_the_bot(published, tmp_path):
    bank = write(tmp_path / "bank.csv", BANK)
    misses = tmp_path / "misses.csv"
    result = published("qa", "test", bank, "--min-top3", "0.9", "--misses", misses)
    assert result.exit_code == 1 and "top-3 is 75%, below the minimum of 90%" in result.stderr
    assert "3/4 (75%)" in result.stdout and "1/1 (100%)" in result.stdout and BADLY_ANSWERED in result.stdout
    rows = list(csv.DictReader(misses.open(encoding="utf-8")))
    assert [(r["question"], r["section"], r["row"]) for r in rows] == [(BADLY_ANSWERED, "4", "2")]
    assert rows[0]["shown_instead"].startswith("nothing")
    assert published("qa", "import", misses).exit_code == 0
    after = published("qa", "test", bank, "--min-top3", "0.9")
    assert after.exit_code == 0 and "4/4 (100%)" in after.stdout


def test_qa_test_refuses_a_bank_with_unreadable_rows(published, tmp_path):
    bank = write(tmp_path / "bank.csv", "question,expected\nwho do I tell,\n,7.1\n")
    result = published("qa", "test", bank)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        "row 2: no expected section: give the section(s) that answer it, e.g. 7.2, or \u201cnot covered\u201d if the "
        "policy does not answer it", "row 3: the question is empty"]


def test_qa_test_on_a_policy_file_needs_no_database(cli, tmp_path):
    result = cli("qa", "test", write(tmp_path / "bank.csv", BANK), "--policy", EXAMPLE_POLICY_PATH)
    assert result.exit_code == 0 and "example-policy.md" in result.stdout
    assert not (tmp_path / "bot.db").exists()


def test_publishing_carries_pairings_over_holds_changed_ones_and_teach_re_attaches(published, tmp_path):
    published("qa", "teach", BADLY_ANSWERED, "--section", "4", "--passage", "1")
    published("qa", "teach", "how long do we keep prompts", "--section", "10.2")
    changed = write(tmp_path / "p2.md", POLICY.replace("Do not keep copies of outputs in personal storage.",
                                                       "Keep no copies at home."))
    result = published("policy", "publish", changed, "--version", "2", "--no-remind")
    assert result.exit_code == 0 and "carried 1 taught pairing(s) over; 1 held for review" in result.stdout
    held = published("qa", "list", "--held").stdout.splitlines()
    assert held[0].split("\t")[:3] == ["4", "10.2 passage 1", "passage changed"]
    assert "Do not keep copies" not in held[0] and "Prompts, outputs and logs" in held[0]
    assert first_section(published, "is there a list of good apps anywhere") == "4"
    assert published("qa", "teach", "--held", "4", "--section", "10.2").exit_code == 0
    assert "no pairings held" in published("qa", "list", "--held").stdout


def test_publish_check_refuses_a_version_that_scores_lower_unless_forced(published, tmp_path):
    bank = write(tmp_path / "bank.csv", BANK)
    published("qa", "teach", BADLY_ANSWERED, "--section", "4", "--passage", "1")
    worse = write(tmp_path / "p2.md", POLICY.replace(
        "Only GenAI tools on the approved tools register may be used for council business.", "Tools are listed."))
    refused = published("policy", "publish", worse, "--version", "2", "--no-remind", "--check", bank)
    assert refused.exit_code == 1 and "not published: the question bank's top-3 is 75% on version 2, below the " \
                                      "current version 1's 100%" in refused.stderr
    assert [line.split("\t")[0] for line in published("policy", "list").stdout.splitlines()] == ["1"]
    forced = published("policy", "publish", worse, "--version", "2", "--no-remind", "--check", bank, "--force")
    assert forced.exit_code == 0 and "publishing anyway (--force)" in forced.stdout
    assert "published version 2" in forced.stdout


async def run_cli(*args, database_url: str) -> tuple[int, str, str]:
    import asyncio
    import os
    import sys

    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "policy-bot"), *[str(a) for a in args],
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


async def test_an_import_is_all_or_nothing_on_either_database(database_url, tmp_path):
    from storage.db import Database

    db = Database(database_url)
    await db.upgrade()  # PostgreSQL is migrated by `policy-bot db upgrade`, as IT would
    await db.dispose()
    assert (await run_cli("policy", "publish", EXAMPLE_POLICY_PATH, "--version", "1", "--no-remind",
                          database_url=database_url))[0] == 0
    bad = write(tmp_path / "bad.csv", "question,section,passage\nwhere is the register kept,4,4\nwho do I tell,99,\n")
    code, _, err = await run_cli("qa", "import", bad, database_url=database_url)
    assert code == 1 and "row 3: the current policy has no section 99" in err
    assert "no pairings taught" in (await run_cli("qa", "list", database_url=database_url))[1]
    good = write(tmp_path / "good.csv", "question,section,passage\nwhere is the register kept,4,4\n"
                                        "where is the register kept,4,4\n")
    code, out, _ = await run_cli("qa", "import", good, database_url=database_url)
    assert code == 0 and out.splitlines()[:2] == ["row 2: taught as pairing 1 (4, passage 4)",
                                                  "row 3: already taught as pairing 1 (4, passage 4)"]
