"""The search's shortcuts must never change what it finds."""

from __future__ import annotations

import random

import yaml
from hypothesis import given, settings, strategies as st

from domain import DATA_DIR
from domain.policy_search import Vocabulary

VOCABULARY = Vocabulary.load()
PHRASES = [str(p) for entry in yaml.safe_load((DATA_DIR / "vocabulary.yaml").read_text(encoding="utf-8")) for p in entry["say"]]
FILLERS = ["a", "the", "our", "my", "resident's", "case", "notes", "Can", "I", "(", ")", ",", ".", "?", "-", "'", "\u2019",
           "ChatGPT", "e.g.", "dall-e", "tl;dv", "x", "3", "\u00e9t\u00e9", "\n", "  "]


def _typed(phrase: str, rng: random.Random) -> str:
    """A vocabulary phrase as someone might type it: gaps filled, odd case, stray punctuation around it."""
    words = [" ".join(rng.choice(FILLERS) for _ in range(rng.randint(1, 4))) if w == "*" else w for w in phrase.split()]
    text = " ".join(words)
    text = text.upper() if rng.random() < 0.2 else text.title() if rng.random() < 0.2 else text
    return rng.choice(["", "(", "'", "-", " "]) + text + rng.choice(["", ")", "?", "'s", "s", ",", "-ish"])


@settings(max_examples=400, deadline=None)
@given(seed=st.integers(0, 2**32), extra=st.text(max_size=40))
def test_the_vocabulary_prefilter_never_skips_an_entry_that_would_match(seed, extra):
    rng = random.Random(seed)
    parts = [_typed(rng.choice(PHRASES), rng) for _ in range(rng.randint(1, 4))]
    parts += [rng.choice(FILLERS) for _ in range(rng.randint(0, 6))] + [extra]
    rng.shuffle(parts)
    lowered = " ".join(parts).lower().replace("\u2019", "'")
    candidates = VOCABULARY._candidates(lowered)
    for entry in VOCABULARY.entries:
        if entry.pattern.search(lowered):
            assert entry in candidates, (lowered, entry.pattern.pattern[:120])


def test_the_prefilter_lets_few_entries_through_for_an_ordinary_question():
    lowered = "can i paste a resident's case notes into chatgpt to summarise them?"
    assert 0 < len(VOCABULARY._candidates(lowered)) < len(VOCABULARY.entries) // 4
