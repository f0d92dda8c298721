"""Ranking passages for a question: a lexical ranker and a semantic one, fused.

Every ranker follows one small interface, `Ranker`: it is built over a list of `Passage`s (each
with optional alternate phrasings, such as questions the governance team has paired with it)
and returns one score per passage for a question, on a scale that means the same in every
document (0 = nothing in common, 1 = the best possible match). A stronger embedding model is
added by writing another `Ranker`; nothing above `HybridRanker` changes.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol, Sequence

import numpy as np

from domain.semantic import StaticEmbedder
from domain.text_terms import QUESTION_FRAME, stems


@dataclass(frozen=True)
class Passage:
    text: str  # what the passage says
    heading: str = ""  # the titles above it, a role's name, the sentence leading into a list
    alternates: tuple[str, ...] = ()  # other ways of asking for this passage (taught pairings)


@dataclass(frozen=True)
class RankerSettings:
    """Every tunable number of the ranking, chosen by leave-one-document-out (scripts/loo.py)."""

    k1: float = 1.2
    b: float = 0.3  # every leave-one-out fold chose 0.3 over 0.75, so it is no longer searched
    heading_weight: float = 0.6  # a heading word counts this much of a body word
    expansion_weight: float = 0.5  # a word the vocabulary says the question means, against one it says
    semantic_weight: float = 0.5  # share of the semantic score in the fused score
    answer_threshold: float = 0.3  # the fused score the best passage needs for an answer
    same_section_penalty: float = 0.0  # taken off further passages from the best passage's section
    part_weight: float = 0.0  # share of the score that comes from how well the passage's section matches
    pack_limit: int = 0  # a list's items are shown with their lead-in, together up to this many characters
    pack_paragraphs: bool = False  # and so are consecutive paragraphs under one heading and label
    neighbour_weight: float = 0.0  # a question word the document lacks also looks for its nearest document words
    frame_weight: float = 1.0  # weight of a question's framing words ("allowed", "rule"); 0 leaves them out

    def replace(self, **changes) -> "RankerSettings":
        return RankerSettings(**{**self.__dict__, **changes})


class Ranker(Protocol):
    def scores(self, question: str) -> np.ndarray:
        """One score in [0, 1] per passage, in the order the ranker was built with."""


class TermNeighbours:
    """The document's words nearest in meaning (by the static model's vectors) to a word it does not use,
    so "encryption" also finds "cryptographic" and "diffrent" finds "different", in any document."""

    MIN_SIMILARITY = 0.35
    LIMIT = 3

    def __init__(self, terms: Sequence[str], embedder: StaticEmbedder) -> None:
        self.terms = list(terms)
        self.embedder = embedder
        self.matrix = embedder.embed(self.terms) if self.terms else np.zeros((0, 1), dtype=np.float32)
        self._cache: dict[str, list[tuple[str, float]]] = {}

    def near(self, term: str) -> list[tuple[str, float]]:
        if term not in self._cache:
            if not self.terms:
                return []
            similarity = self.matrix @ self.embedder.embed([term])[0]
            best = np.argsort(-similarity)[: self.LIMIT]
            self._cache[term] = [(self.terms[i], float(similarity[i])) for i in best
                                 if similarity[i] >= self.MIN_SIMILARITY]
        return self._cache[term]


class LexicalRanker:
    """BM25 over stemmed words with a heading field (BM25F-style), normalised by the question's own weight.

    The score is the passage's BM25 divided by what a passage holding every question word would get,
    so a question whose words the document never uses scores low everywhere: that is evidence the
    document does not cover it, whatever document it is.
    """

    def __init__(self, passages: Sequence[Passage], settings: RankerSettings, expand=None,
                 counts: tuple[list[Counter], list[Counter]] | None = None, embedder: StaticEmbedder | None = None) -> None:
        self.settings = settings
        self.expand = expand
        bodies, headings = counts or self.count(passages)
        self.size = len(bodies)
        self.lengths = np.array([max(1, sum(b.values())) for b in bodies], dtype=np.float64)
        average = float(self.lengths.mean()) if self.size else 1.0
        frequency: Counter = Counter()
        for body, heading in zip(bodies, headings):
            frequency.update(set(body) | set(heading))
        n = max(1, self.size)
        self.idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in frequency.items()}
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)
        k1, b = settings.k1, settings.b
        norms = k1 * (1 - b + b * self.lengths / average)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        collected: dict[str, tuple[list[int], list[float]]] = {}
        for position, (body, heading) in enumerate(zip(bodies, headings)):
            for term in set(body) | set(heading):
                tf = body.get(term, 0) + settings.heading_weight * heading.get(term, 0)
                saturation = tf * (k1 + 1) / (tf + norms[position])
                ids, values = collected.setdefault(term, ([], []))
                ids.append(position)
                values.append(saturation)
        for term, (ids, values) in collected.items():
            self.postings[term] = (np.array(ids, dtype=np.int64), np.array(values) * self.idf[term])
        self.neighbours = TermNeighbours(sorted(self.idf), embedder) \
            if embedder is not None and settings.neighbour_weight > 0 else None

    @staticmethod
    def count(passages: Sequence[Passage]) -> tuple[list[Counter], list[Counter]]:
        """Each passage's body and heading words, as stem counts (reusable for larger parts)."""
        return ([Counter(stems(p.text)) for p in passages],
                [Counter(stems(" ".join((p.heading, *p.alternates)))) for p in passages])

    def query_terms(self, question: str) -> dict[str, float]:
        """Each stem the question asks about, with the weight of its evidence (1 = said outright)."""
        terms: dict[str, float] = {t: 1.0 for t in stems(question)}
        if self.settings.frame_weight < 1.0:
            for term in QUESTION_FRAME.intersection(terms):
                if self.settings.frame_weight > 0:
                    terms[term] = self.settings.frame_weight
                else:
                    del terms[term]
        if self.expand is not None and self.settings.expansion_weight > 0:
            for meant in self.expand(question):
                for term in meant:
                    terms.setdefault(term, self.settings.expansion_weight)
        if self.neighbours is not None:
            for term in [t for t, w in terms.items() if w == 1.0 and t not in self.idf]:
                for near, similarity in self.neighbours.near(term):
                    weight = self.settings.neighbour_weight * similarity
                    if terms.get(near, 0.0) < weight:
                        terms[near] = weight
        return terms

    def scores(self, question: str) -> np.ndarray:
        out = np.zeros(self.size)
        terms = self.query_terms(question)
        if not terms or not self.size:
            return out
        ceiling = 0.0
        for term, weight in terms.items():
            idf = self.idf.get(term, self.unseen_idf)
            if weight == 1.0:
                ceiling += idf * (self.settings.k1 + 1)
            posting = self.postings.get(term)
            if posting is not None:
                ids, values = posting
                out[ids] += weight * values
        return np.minimum(out / ceiling, 1.0) if ceiling else out


class SemanticRanker:
    """Cosine similarity of static sentence embeddings (heading and text), best over a passage's phrasings."""

    def __init__(self, passages: Sequence[Passage], embedder: StaticEmbedder, matrix: np.ndarray | None = None) -> None:
        self.embedder = embedder
        self.size = len(passages)
        texts = [f"{p.heading}. {p.text}" if p.heading else p.text for p in passages]
        self.matrix = matrix if matrix is not None else embedder.embed(texts)
        owners, alternates = [], []
        for position, passage in enumerate(passages):
            for phrasing in passage.alternates:
                owners.append(position)
                alternates.append(phrasing)
        self.alternate_owner = np.array(owners, dtype=np.int64)
        self.alternate_matrix = embedder.embed(alternates)

    def scores(self, question: str) -> np.ndarray:
        if not self.size:
            return np.zeros(0)
        vector = self.embedder.embed([question])[0]
        out = self.matrix @ vector
        if len(self.alternate_owner):
            np.maximum.at(out, self.alternate_owner, self.alternate_matrix @ vector)
        return np.clip(out, 0.0, 1.0).astype(np.float64)


@dataclass(frozen=True)
class Ranked:
    position: int
    score: float


@dataclass
class HybridRanker:
    """Linear fusion of lexical and semantic scores (both on document-independent scales), for each passage
    and, with a smaller weight, for the part of the document it sits in (`owner[i]` = passage i's part)."""

    lexical: Ranker
    semantic: Ranker | None
    settings: RankerSettings = field(default_factory=RankerSettings)
    part_lexical: Ranker | None = None
    part_semantic: Ranker | None = None
    owner: np.ndarray | None = None

    def components(self, question: str) -> tuple[np.ndarray, ...]:
        lexical = self.lexical.scores(question)
        semantic = self.semantic.scores(question) if self.semantic is not None else np.zeros_like(lexical)
        if self.part_lexical is None or self.owner is None:
            return lexical, semantic, np.zeros_like(lexical), np.zeros_like(lexical)
        part_semantic = self.part_semantic.scores(question) if self.part_semantic is not None else None
        part_lexical = self.part_lexical.scores(question)
        return (lexical, semantic, part_lexical[self.owner],
                part_semantic[self.owner] if part_semantic is not None else np.zeros_like(lexical))

    @staticmethod
    def fuse(components: tuple[np.ndarray, ...], settings: RankerSettings) -> np.ndarray:
        lexical, semantic, part_lexical, part_semantic = components
        w = settings.semantic_weight
        own = (1 - w) * lexical + w * semantic
        if settings.part_weight <= 0:
            return own
        part = (1 - w) * part_lexical + w * part_semantic
        return (1 - settings.part_weight) * own + settings.part_weight * part

    def rank(self, question: str) -> np.ndarray:
        return self.fuse(self.components(question), self.settings)


def pick_distinct(fused: np.ndarray, sections: Sequence[str], texts: Sequence[str], limit: int,
                  same_section_penalty: float = 0.0) -> list[Ranked]:
    """The best passages, never the same text twice; optionally fewer from the best passage's section."""
    order = np.argsort(-fused, kind="stable")
    picked: list[Ranked] = []
    seen: set[str] = set()
    candidates = []
    for position in order[: max(limit * 8, 24)]:
        position = int(position)
        if fused[position] <= 0 or texts[position] in seen:
            continue
        seen.add(texts[position])
        candidates.append(position)
    if not candidates:
        return []
    first = candidates[0]
    picked.append(Ranked(first, float(fused[first])))
    rest = [(float(fused[p]) - (same_section_penalty if sections[p] == sections[first] else 0.0), p) for p in candidates[1:]]
    rest.sort(key=lambda item: -item[0])
    for _, position in rest[: limit - 1]:
        picked.append(Ranked(position, float(fused[position])))
    return picked
