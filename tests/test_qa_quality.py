"""Answer quality, judged by leave-one-document-out on real policies with frozen questions.

Every setting is chosen on the other documents (scripts/loo.py) and measured on the one left out.
The figures are in README.md. The issue's bar is not yet met; `test_the_bar_on_every_left_out_document`
records that as an expected failure until it is, and the floors below stop the engine getting worse.
Our own example sets stay as regression checks at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from evaluate_qa import evaluate, load_corpus  # noqa: E402
from loo import leave_one_out  # noqa: E402

from domain import EXAMPLE_POLICY_PATH  # noqa: E402


@pytest.fixture(scope="module")
def loo_report():
    documents = load_corpus()
    assert len(documents) >= 6
    return leave_one_out(documents)


def test_the_corpus_is_frozen_and_big_enough():
    for document in load_corpus():  # load_corpus checks every questions.yaml against its FROZEN hash
        assert len(document.in_scope) >= 30 and len(document.out_of_scope) >= 8, document.slug


def test_left_out_documents_stay_above_the_recorded_floor(loo_report):
    # Floors a little under the current leave-one-out figures (README), so a change that makes
    # answers worse on unseen documents fails here.
    for slug, figures in loo_report.items():
        assert figures["top3"] >= 0.52, (slug, figures)
        assert figures["top1"] >= 0.36, (slug, figures)
        assert figures["in_scope_refused"] / figures["in_scope"] <= 0.37, (slug, figures)
    mean_top1 = sum(f["top1"] for f in loo_report.values()) / len(loo_report)
    mean_top3 = sum(f["top3"] for f in loo_report.values()) / len(loo_report)
    assert mean_top1 >= 0.49 and mean_top3 >= 0.65, (mean_top1, mean_top3)
    assert sum(f["out_of_scope_answered"] for f in loo_report.values()) <= 15, loo_report


@pytest.mark.xfail(reason="issue 14's bar is not met yet: see the README table", strict=False)
def test_the_bar_on_every_left_out_document(loo_report):
    for slug, figures in loo_report.items():
        assert figures["top1"] >= 0.80 and figures["top3"] >= 0.92, slug
        assert figures["out_of_scope_answered"] == 0, slug
        assert figures["in_scope_refused"] / figures["in_scope"] <= 1 / 50, slug


def test_example_policy_regression():
    # Lower than the old engine's 0.91 / 0.99, which was fitted to this set; the settings are chosen on the
    # real corpus only, and this set does not measure quality any more (see README).
    scores = evaluate(EXAMPLE_POLICY_PATH, ROOT / "tests/eval/questions.yaml")
    assert scores["in_scope"] >= 60 and scores["out_of_scope"] >= 10
    assert scores["top1"] >= 0.75 and scores["top3"] >= 0.9, scores
    assert scores["in_scope_refused"] <= 4, scores


def test_held_out_example_sets_regression():
    scores = evaluate(ROOT / "tests/fixtures/messy-policy.txt", ROOT / "tests/eval/heldout.yaml")
    assert scores["top1"] >= 0.7 and scores["top3"] >= 0.7, scores
    scores = evaluate(ROOT / "tests/fixtures/messy-policy.txt", ROOT / "tests/eval/heldout-blind.yaml")
    assert scores["top1"] >= 0.7 and scores["top3"] >= 0.85, scores
