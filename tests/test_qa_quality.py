"""The evaluation sets as a regression guard. The numbers are reported in README.md."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from evaluate_qa import evaluate  # noqa: E402

from domain import EXAMPLE_POLICY_PATH  # noqa: E402


def test_example_policy_evaluation():
    scores = evaluate(EXAMPLE_POLICY_PATH, ROOT / "tests/eval/questions.yaml")
    assert scores["in_scope"] >= 60 and scores["out_of_scope"] >= 10
    assert scores["out_of_scope_refused"] == f"{scores['out_of_scope']}/{scores['out_of_scope']}"
    assert scores["top1"] >= 0.90 and scores["top3"] >= 0.98  # the bar
    assert scores["in_scope_refused"] == 0


def test_held_out_policy_evaluation():
    scores = evaluate(ROOT / "tests/fixtures/messy-policy.txt", ROOT / "tests/eval/heldout.yaml")
    assert scores["out_of_scope_refused"] == f"{scores['out_of_scope']}/{scores['out_of_scope']}"
    assert scores["top1"] >= 0.84 and scores["top3"] >= 0.92


def test_second_held_out_set():
    scores = evaluate(ROOT / "tests/fixtures/messy-policy.txt", ROOT / "tests/eval/heldout-blind.yaml")
    assert scores["out_of_scope_refused"] == f"{scores['out_of_scope']}/{scores['out_of_scope']}"
    assert scores["top1"] >= 0.7 and scores["top3"] >= 0.9
