"""Matching a question against the questions the governance team has taught, question to question.

A passage's own words are formal and long; a taught question is worded as staff word them. So besides
being an alternate phrasing inside its passage (domain/retrieval.py), each taught question is matched
against the new question directly, with the same two scores and the same fusion as passages are
(lexical over the document's word statistics, semantic by the static model), and its passage scores
at least that much. No new weight: a question like a taught one finds its passage the way a question
like a passage's own words does.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from domain.retrieval import LexicalRanker, Passage, RankerSettings, SemanticRanker
from domain.semantic import StaticEmbedder


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
