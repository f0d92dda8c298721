"""Matching a question against the questions the governance team has taught, question to question.

A passage's own words are formal and long; a taught question is worded as staff word them. So each
taught question is matched against the new question directly, with the same two scores and the same
fusion as passages are (lexical over the document's word statistics, semantic by the static model).

What that match may do is kept narrow, because the bot must not answer other questions worse for having
been taught (scripts/bench_learning.py measures it):
- A taught question is not added to its passage's words. Its words would then lift that passage for
  every question sharing one of them, not only for questions worded like it.
- Its passage is lifted only where the match beats the question's best passage on its own terms by
  more than a margin, in proportion to the excess:
  `own[p] + LEND_WEIGHT × max(0, taught[p] − max(own) − LEND_MARGIN)`. A question merely somewhat like
  a taught one (a shared word or two, as likely for another need) changes nothing, so it cannot carry
  a question the document does not cover past the refusal threshold either; a question worded like the
  taught one puts its passage first. (A lifted score can pass 1: it ranks, it is not a likeness.)
With no taught questions nothing changes: the search is the ordinary one.

LEND_WEIGHT and LEND_MARGIN are chosen by leave-one-document-out in scripts/bench_learning.py (fewest
untaught questions made worse, then the rise the issue asks for, then the widest margin); these are the
values chosen on all six corpus documents together.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from domain.retrieval import LexicalRanker, Passage, RankerSettings, SemanticRanker
from domain.semantic import StaticEmbedder

LEND_WEIGHT = 5.0
LEND_MARGIN = 0.1


def lend(own: np.ndarray, taught: np.ndarray, weight: float = LEND_WEIGHT, margin: float = LEND_MARGIN) -> np.ndarray:
    """The passages' fused scores `own`, lifted by the taught match `taught` (per passage) where it beats the
    best of `own` by more than `margin`."""
    if not len(own):
        return own
    return own + weight * np.maximum(taught - float(own.max()) - margin, 0.0)


class TaughtQuestions:
    def __init__(self, questions: Sequence[str], owners: Sequence[Sequence[int]], passages: Sequence[Passage],
                 settings: RankerSettings, expand: Callable | None, embedder: StaticEmbedder) -> None:
        """`owners[i]`: the positions of the passages taught question i belongs to, among `passages`."""
        self.settings = settings
        self.size = len(passages)
        self.first = len(passages)
        taught = [Passage(q) for q in questions]
        # One collection of passages and taught questions, so a word's rarity is the document's.
        self.lexical = LexicalRanker([*passages, *taught], settings, expand)
        self.semantic = SemanticRanker(taught, embedder) if settings.semantic_weight > 0 else None
        self.question_of = np.array([i for i, positions in enumerate(owners) for _ in positions], dtype=np.int64)
        self.passage_of = np.array([p for positions in owners for p in positions], dtype=np.int64)

    def scores(self, question: str) -> np.ndarray:
        """Per passage: the best fused score of a question taught for it against this one (0 if none)."""
        out = np.zeros(self.size)
        if not len(self.passage_of):
            return out
        lexical = self.lexical.scores(question)[self.first:]
        semantic = self.semantic.scores(question) if self.semantic is not None else np.zeros_like(lexical)
        w = self.settings.semantic_weight
        each = (1 - w) * lexical + w * semantic
        np.maximum.at(out, self.passage_of, each[self.question_of])
        return out
