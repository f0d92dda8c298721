"""Leave-one-document-out: choose every ranking setting on the other documents, measure on the one left out.

Used by scripts/evaluate_qa.py (and tests/test_qa_quality.py). `--write-settings` in evaluate_qa.py
stores the settings chosen on all documents together as the engine's defaults.

The choice maximises, summed over the training documents:
    top-1 + top-3 - 3 x (share of out-of-scope questions answered) - 3 x (share of in-scope questions refused)
The threshold is the midpoint between neighbouring observed best-passage scores, so it is not fitted
more finely than the data allow.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from domain.policy_parse import parse_policy
from domain.policy_search import PolicyIndex, Vocabulary, shared_embedder
from domain.policy_text import Placeholders, policy_source_text
from domain.retrieval import HybridRanker, RankerSettings
from domain.semantic import StaticEmbedder
from evaluate_qa import PLACEHOLDERS, Document, is_hit, score

# Settings that change how the index is built, and those that only change how scores are combined.
BUILD_GRID = {
    "expansion_weight": [0.0, 0.4],
    "pack_limit": [0, 480],
    "pack_paragraphs": [False, True],
    "neighbour_weight": [0.0, 0.5],
    "frame_weight": [0.0, 1.0],
}
FUSION_GRID = {
    "semantic_weight": [0.2, 0.35, 0.5, 0.65],
    "part_weight": [0.0, 0.15, 0.3],
    "same_section_penalty": [0.0, 0.05],
}
PENALTY = 3.0


@dataclass
class Prepared:
    """One document's per-question component scores for one build setting."""

    document: Document
    index: PolicyIndex
    components_in: list[tuple]
    components_out: list[tuple]


def _combinations(grid: dict) -> list[dict]:
    keys = list(grid)
    combos = [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]
    # Packing paragraphs without a limit to pack to is the same as not packing.
    return [c for c in combos if c.get("pack_limit", 1) or not c.get("pack_paragraphs")]


class RememberingEmbedder:
    """The shared model, remembering each text's vector: every build setting below embeds the same passages,
    words and questions again. The model embeds each text on a row of its own (its tokens' mean, then that
    row's length), so a remembered vector is exactly the one a new batch would give."""

    def __init__(self, model: StaticEmbedder) -> None:
        self._model = model
        self._vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self._model.embed(missing)))
        out = np.zeros((len(texts), self._model.table.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self._vectors[text]
        return out


def prepare(documents: list[Document]) -> dict[tuple, list[Prepared]]:
    parsed = {d.slug: parse_policy(policy_source_text(d.path), Placeholders(*PLACEHOLDERS)) for d in documents}
    # Loaded once for every index below: the same vocabulary file and model each would load for itself.
    vocabulary, embedder = Vocabulary.load(), RememberingEmbedder(shared_embedder())
    prepared: dict[tuple, list[Prepared]] = {}
    for build in _combinations(BUILD_GRID):
        key = tuple(sorted(build.items()))
        prepared[key] = []
        for document in documents:
            settings = RankerSettings().replace(**build, semantic_weight=0.5, part_weight=0.5)
            index = PolicyIndex(parsed[document.slug], vocabulary, settings=settings, embedder=embedder)
            comp_in = [index.ranker.components(i["question"]) for i in document.in_scope]
            comp_out = [index.ranker.components(q) for q in document.out_of_scope]
            prepared[key].append(Prepared(document, index, comp_in, comp_out))
    return prepared


def _outcomes(p: Prepared, settings: RankerSettings):
    """(best score, top-1 hit, top-3 hit) per in-scope question; best score per out-of-scope question."""
    ins = []
    for item, components in zip(p.document.in_scope, p.components_in):
        result = p.index.result(HybridRanker.fuse(components, settings), settings=settings.replace(answer_threshold=0))
        texts = [h.text for h in result.hits]
        ins.append((result.coverage, bool(texts) and is_hit(texts[0], item["answers"]),
                    any(is_hit(t, item["answers"]) for t in texts)))
    outs = [float(HybridRanker.fuse(c, settings).max(initial=0.0)) for c in p.components_out]
    return ins, outs


def _arrays(outcomes: list) -> list[tuple[np.ndarray, ...]]:
    return [(np.array([x[0] for x in ins]), np.array([x[1] for x in ins]), np.array([x[2] for x in ins]),
             np.array(outs)) for ins, outs in outcomes]


def _objective(arrays: list, thresholds: np.ndarray) -> np.ndarray:
    """The objective for every candidate threshold at once."""
    total = np.zeros(len(thresholds))
    t = thresholds[:, None]
    for scores, top1, top3, outs in arrays:
        answered = scores[None, :] >= t
        total += (answered & top1).mean(axis=1) + (answered & top3).mean(axis=1)
        total -= PENALTY * (~answered).mean(axis=1)
        if len(outs):
            total -= PENALTY * (outs[None, :] >= t).mean(axis=1)
    return total


def _best_threshold(outcomes: list) -> tuple[float, float]:
    arrays = _arrays(outcomes)
    observed = np.unique(np.round(np.concatenate([np.concatenate([a[0], a[3]]) for a in arrays]), 4))
    candidates = (observed[:-1] + observed[1:]) / 2 if len(observed) > 1 else np.array([0.0])
    values = _objective(arrays, candidates)
    best = int(np.argmax(values))  # the lowest threshold among equals: argmax takes the first
    return float(values[best]), float(candidates[best])


_OUTCOMES: dict[tuple, tuple] = {}


def _cached_outcomes(p: Prepared, key: tuple, fusion: dict, settings: RankerSettings):
    cache_key = (p.document.slug, id(p), key, tuple(sorted(fusion.items())))
    if cache_key not in _OUTCOMES:
        _OUTCOMES[cache_key] = _outcomes(p, settings)
    return _OUTCOMES[cache_key]


def choose(prepared: dict[tuple, list[Prepared]], slugs: set[str]) -> tuple[RankerSettings, float]:
    """The settings that do best on the documents named in `slugs`."""
    best: tuple[float, RankerSettings] | None = None
    for key, documents in prepared.items():
        training = [p for p in documents if p.document.slug in slugs]
        for fusion in _combinations(FUSION_GRID):
            settings = RankerSettings().replace(**dict(key), **fusion)
            outcomes = [_cached_outcomes(p, key, fusion, settings) for p in training]
            value, threshold = _best_threshold(outcomes)
            if best is None or value > best[0] + 1e-9:
                best = (value, settings.replace(answer_threshold=round(threshold, 4)))
    return best[1], best[0]


def measure(p: Prepared, settings: RankerSettings, show_misses: bool = False) -> dict:
    def run(components):
        result = p.index.result(HybridRanker.fuse(components, settings), settings=settings)
        return result.answered, [h.text for h in result.hits]

    results_in = [run(c) for c in p.components_in]
    results_out = [run(c) for c in p.components_out]
    return score(results_in, results_out, p.document, show_misses)


def leave_one_out(documents: list[Document], show_misses: bool = False, only: list[str] | None = None) -> dict:
    prepared = prepare(documents)
    report: dict = {}
    for document in documents:
        if only and document.slug not in only:
            continue
        others = {d.slug for d in documents if d.slug != document.slug}
        settings, _ = choose(prepared, others)
        key = tuple(sorted((k, getattr(settings, k)) for k in BUILD_GRID))
        held_out = next(p for p in prepared[key] if p.document.slug == document.slug)
        if show_misses:
            print(f"== {document.slug} (settings chosen on {len(others)} other documents: {settings})")
        report[document.slug] = {**measure(held_out, settings, show_misses), "settings": settings.__dict__}
    return report


def settings_for_all(documents: list[Document]) -> RankerSettings:
    prepared = prepare(documents)
    settings, _ = choose(prepared, {d.slug for d in documents})
    return settings
