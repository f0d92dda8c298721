"""Benchmark `policy-bot qa test` on a 200-question bank, as a person runs it: the whole command, wall time.

    python scripts/bench_qa_test.py [--questions 200] [--runs 3]

The bank is the example policy's evaluation questions (tests/eval/questions.yaml), repeated to the
size asked for, with their expected sections and "not covered" for the out-of-scope ones. It is run
against the example policy file (--policy) and against the current version in a SQLite database
with one taught pairing. Issue 15 asks for under 5 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import cycle, islice
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "policy-bot"
POLICY = ROOT / "domain" / "data" / "example-policy.md"


def write_bank(path: Path, size: int) -> None:
    data = yaml.safe_load((ROOT / "tests" / "eval" / "questions.yaml").read_text(encoding="utf-8"))
    rows = [(i["q"], "; ".join(i["expect"])) for i in data["in_scope"]] + [(q, "not covered") for q in data["out_of_scope"]]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question", "expected"])
        writer.writerows(islice(cycle(rows), size))


def timed(args: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of the command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):
        raise SystemExit(f"policy-bot {' '.join(args)} failed:\n{result.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bank = Path(folder) / "bank.csv"
        write_bank(bank, args.questions)
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder}/bot.db", "LOG_LEVEL": "WARNING"}
        timed(["policy", "publish", str(POLICY), "--version", "1", "--no-remind"], env)
        timed(["qa", "teach", "is there a list of the good apps", "--section", "4", "--passage", "1"], env)
        for label, extra in (("--policy file", ["--policy", str(POLICY)]), ("current version (SQLite, 1 pairing)", [])):
            runs = [timed(["qa", "test", str(bank), *extra], env) for _ in range(args.runs)]
            wall, cpu = [r[0] for r in runs], [r[1] for r in runs]
            print(f"qa test, {args.questions} questions, {label}: wall median {statistics.median(wall):.2f} s "
                  f"(best {min(wall):.2f} s), CPU median {statistics.median(cpu):.2f} s, over {args.runs} runs")


if __name__ == "__main__":
    main()
