"""Finding the passages of a policy that answer a question, or saying that none does.

Each paragraph or list item (long ones split at sentences, each piece keeping its label and
the sentence that leads into it) is a passage. A hybrid ranker (domain/retrieval.py) scores
every passage: BM25 over stemmed words with a heading field, fused with the cosine similarity
of a small static embedding model that ships in a wheel. Staff phrasing is bridged to formal
wording by a general vocabulary of public-sector paraphrase, at reduced weight. A question is
answered when the best passage's fused score clears a threshold calibrated across documents
(leave-one-document-out, scripts/loo.py); up to three distinct passages are shown.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import yaml

from domain import DATA_DIR
from domain.chatter import is_chatter
from domain.pairings import find_section, section_key, text_hash
from domain.policy_parse import Block, PolicyDocument, Section
from domain.records import PairingRecord
from domain.retrieval import HybridRanker, LexicalRanker, Passage, RankerSettings, SemanticRanker, pick_distinct
from domain.semantic import StaticEmbedder
from domain.taught import TaughtQuestions, lend
from domain.text_terms import STOPWORDS, _stem, stems, words  # noqa: F401  (re-exported)

SETTINGS_PATH = DATA_DIR / "search_settings.json"


def load_settings(path: Path = SETTINGS_PATH) -> RankerSettings:
    """The settings chosen on the whole corpus by scripts/loo.py --write-settings."""
    if not path.is_file():
        return RankerSettings()
    return RankerSettings(**json.loads(path.read_text(encoding="utf-8"))["settings"])


@lru_cache(maxsize=1)
def shared_embedder() -> StaticEmbedder:
    """One copy of the model's table per process (about 33 MB)."""
    return StaticEmbedder()


_DETERMINERS = r"(?:the|this|that|our|my|your|their|a|an)"


def _phrase_pattern(phrase: str) -> str:
    """'ignore the policy' also matches 'ignore this policy' and 'ignore our policy';
    a '*' stands for one to five words, so 'put * into' matches 'put a resident's case notes into'."""
    parts = []
    for word in phrase.split():
        if word == "*":
            parts.append(r"(?:[\w'’.-]+\s+){0,4}[\w'’.-]+")
        elif word in ("the", "this", "our", "my", "a", "an"):
            parts.append(_DETERMINERS)
        else:
            parts.append(re.escape(word))
    return r"\s+".join(parts)


def _anchor(phrase: str) -> str | None:
    """A word that every match of the phrase contains as typed, preferring whole words, then the longest."""
    literal = [w for w in phrase.split() if w != "*" and w not in ("the", "this", "our", "my", "a", "an")]
    return max(literal, key=lambda w: (_WORD_RUN.fullmatch(w) is not None, len(w))) if literal else None


_WORD_RUN = re.compile(r"\w+")


@dataclass(frozen=True)
class VocabularyEntry:
    source: str  # the regular expression; compiled on first use, as most entries never meet a question they might match
    means: tuple[str, ...]
    gapped: bool = False  # its phrases have '*' gaps: what the gap holds is the question's own words

    @cached_property
    def pattern(self) -> re.Pattern:
        return re.compile(self.source)


class Vocabulary:
    def __init__(self, entries: list[dict]) -> None:
        self.entries = []
        # Running ~100 regexes on every question is the slow part of a search, and most cannot match. A phrase
        # matches only where its anchor word occurs: whole-word anchors are looked up among the question's words,
        # the rest ("dall-e") tested as substrings, so only entries that might match run their regex.
        self._by_word: dict[str, set[int]] = {}
        self._by_substring: dict[str, set[int]] = {}
        self._always: set[int] = set()
        for entry in entries:
            phrases = sorted((str(p).lower() for p in entry["say"]), key=len, reverse=True)
            pattern = r"(?<![\w])(?:" + "|".join(_phrase_pattern(p) for p in phrases) + r")(?![\w])"
            gapped = any("*" in p.split() for p in phrases)
            if gapped and not all("*" in p.split() for p in phrases):
                raise ValueError(f"vocabulary entry mixes gapped and plain phrases: {phrases}")
            self.entries.append(VocabularyEntry(pattern, tuple(stems(entry["means"])), gapped))
            self._index_anchors(len(self.entries) - 1, phrases)

    def _index_anchors(self, position: int, phrases: list[str]) -> None:
        for phrase in phrases:
            anchor = _anchor(phrase)
            if anchor is None:
                self._always.add(position)
            elif _WORD_RUN.fullmatch(anchor):
                self._by_word.setdefault(anchor, set()).add(position)
            else:
                self._by_substring.setdefault(anchor, set()).add(position)

    def _candidates(self, lowered: str) -> list[VocabularyEntry]:
        found = set(self._always)
        for word in set(_WORD_RUN.findall(lowered)):
            found.update(self._by_word.get(word, ()))
        for anchor, positions in self._by_substring.items():
            if anchor in lowered:
                found.update(positions)
        return [self.entries[p] for p in sorted(found)]

    @classmethod
    def load(cls, path: Path | None = None) -> "Vocabulary":
        # libyaml's loader when PyYAML has it: a tenth of the time, which every command that searches pays.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return cls(yaml.load((path or DATA_DIR / "vocabulary.yaml").read_text(encoding="utf-8"), Loader=loader))

    _last: tuple[str, tuple] | None = None  # the last question expanded, and what it gave

    def expand(self, question: str) -> list[tuple[tuple[str, ...], tuple[str, ...], str]]:
        """(stems of the words the user said, stems they mean, the phrase as typed) for every phrase recognised."""
        # One search asks once per lexical ranker (passages, sections, taught questions): the last answer is kept.
        last = self._last
        if last is not None and last[0] == question:
            return list(last[1])
        found = self._expand(question)
        self._last = (question, tuple(found))
        return found

    def _expand(self, question: str) -> list[tuple[tuple[str, ...], tuple[str, ...], str]]:
        lowered = question.lower().replace("\u2019", "'")
        matches = [
            (m.start(), m.end(), entry)
            for entry in self._candidates(lowered)
            for m in entry.pattern.finditer(lowered)
        ]
        # Longest phrase wins: "sign off" is not also "sign", "how long does it take" is not also "how long".
        matches.sort(key=lambda m: m[0] - m[1])
        taken: list[tuple[int, int]] = []
        found = []
        for start, end, entry in matches:
            if entry.gapped:
                # Only the frame counts ("put … into"); the words in the gap stay free for other phrases.
                first, last = lowered[start:end].split()[0], lowered[start:end].split()[-1]
                found.append(((), entry.means + tuple(stems(f"{first} {last}")), f"{first} {last}"))
                continue
            if any(s <= start and end <= e and (s, e) != (start, end) for s, e in taken):
                continue
            taken.append((start, end))
            phrase = lowered[start:end]
            found.append((tuple(stems(phrase)), entry.means, phrase))
        return found




@dataclass(frozen=True)
class Unit:
    section: Section
    index: int  # position of the block in its section
    text: str  # the piece of the block's own text
    display: str  # what is shown: label, lead-in and text, at most about 500 characters


@dataclass(frozen=True)
class Hit:
    section: str
    title: str
    text: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    answered: bool
    hits: list[Hit]
    coverage: float = 0.0  # the best passage's fused score
    tentative: bool = False  # answered, but only just: the answer says it may not fit (TENTATIVE_MARGIN)


# An answer whose best passage clears the refusal threshold by less than this is shown as tentative ("I'm not
# sure these passages answer it"). Over the six corpus documents (settings chosen on all six; 226 questions
# answered, 14 of them out of scope), the right passage came first for 27 of the 71 in that band (38 %), and for
# 60-79 % in each 0.05 band above it; 9 of the 14 out-of-scope questions answered fell in it. It changes the
# wording, not what is shown.
TENTATIVE_MARGIN = 0.05


def tentative_below(settings: RankerSettings | None = None) -> float:
    """The best passage's score under which an answer is tentative, with these settings (the engine's by default)."""
    return (settings or load_settings()).answer_threshold + TENTATIVE_MARGIN


SHOWN_LIMIT = 500
SHOWN_RATIO = 0.45  # quote a further passage only if it scores at least this share of the best


def shown_hits(result: SearchResult) -> list[Hit]:
    """The passages an answer quotes: none when the policy does not cover the question."""
    if not result.answered:
        return []
    return [h for h in result.hits if h.score >= result.hits[0].score * SHOWN_RATIO]


def _label(subtitle: str | None) -> str:
    if not subtitle:
        return ""
    return f"{subtitle} " if subtitle.endswith("?") else f"{subtitle}: "


def _prefix(block: Block) -> str:
    if block.kind == "bullet":
        label = _label(block.subtitle)
        lead = f"{block.lead_in} " if block.lead_in else ""
        return f"{label}{lead}• "
    clause = f"{block.clause}. " if block.clause else ""
    return f"{_label(block.subtitle)}{clause}"


def split_long(text: str, limit: int) -> list[str]:
    """Sentences grouped into pieces of at most `limit` characters (a sentence longer than that stays whole)."""
    if len(text) <= limit:
        return [text]
    sentences = re.split(r"(?<=[.;!?])\s+(?=[A-Z\"'(•\d])", text)
    chunks, current = [], ""
    for sentence in sentences:
        if current and len(current) + 1 + len(sentence) > limit:
            chunks.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        chunks.append(current)
    return chunks


def _trim(text: str, limit: int = SHOWN_LIMIT) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return cut[: cut.rfind(" ")].rstrip(",;:") + "…"


def _shown(prefix: str, piece: str) -> str:
    """The passage as quoted: its label and lead-in, shortened first if together they would not fit."""
    if len(prefix) + len(piece) > SHOWN_LIMIT and len(prefix) > 160:
        prefix = _trim(prefix, 160).rstrip("…") + "… "
    return _trim(prefix + piece)


def build_units(document: PolicyDocument, pack_limit: int = 0, pack_paragraphs: bool = False
                ) -> tuple[list[Unit], list[Passage], list[int]]:
    """Passages, and for each the index of the section it belongs to (its 'part').

    With `pack_limit`, a list's items are shown after their lead-in, together while they fit, so a list is
    quoted whole rather than one item; with `pack_paragraphs` too, consecutive paragraphs under one label."""
    units: list[Unit] = []
    passages: list[Passage] = []
    owners: list[int] = []
    for part, section in enumerate(document.sections):
        titles = [*section.parents, section.title]
        pieces: list[tuple[int, Block, str, str]] = []  # block index, block, prefix, piece
        for index, block in enumerate(section.blocks):
            prefix = _prefix(block)
            room = max(220, SHOWN_LIMIT - min(len(prefix), 160) - 10)
            for piece in split_long(block.text, room):
                pieces.append((index, block, prefix, piece))
        position = 0
        while position < len(pieces):
            index, block, prefix, piece = pieces[position]
            shown = _shown(prefix, piece)
            body = piece
            end = position + 1
            while pack_limit and end < len(pieces):
                _, other, other_prefix, other_piece = pieces[end]
                # Only a list is packed: its items, after the sentence that leads into them.
                in_list = other.kind == "bullet" and other.subtitle == block.subtitle and (
                    other.lead_in == (block.lead_in if block.kind == "bullet" else block.text))
                if not in_list and not (pack_paragraphs and other.subtitle == block.subtitle):
                    break
                listed = other.kind == "bullet" and (block.kind == "bullet" or other.lead_in == block.text)
                addition = f" • {other_piece}" if listed else f" {_shown(other_prefix, other_piece)}"
                if len(shown) + len(addition) > pack_limit:
                    break
                shown += addition
                body += " " + other_piece
                end += 1
            heading = " ".join(filter(None, [*titles, block.subtitle, block.lead_in if block.kind == "bullet" else None]))
            units.append(Unit(section, index, body, shown))
            passages.append(Passage(body, heading))
            owners.append(part)
            position = end
    return units, passages, owners


def _part_passages(document: PolicyDocument) -> list[Passage]:
    return [Passage("", " ".join([*s.parents, s.title])) for s in document.sections]


def _units_by_block(units: Sequence[Unit]) -> dict[tuple[int, int], list[int]]:
    """(section, block) -> the passages showing that block: a long block is split over several, a packed
    passage shows several blocks (up to where the next passage of its section starts)."""
    covering: dict[tuple[int, int], list[int]] = {}
    for position, unit in enumerate(units):
        following = units[position + 1] if position + 1 < len(units) else None
        if following is not None and following.section is unit.section and following.index > unit.index:
            end = following.index
        elif following is not None and following.section is unit.section:
            end = unit.index + 1
        else:
            end = len(unit.section.blocks)
        for block in range(unit.index, max(end, unit.index + 1)):
            covering.setdefault((id(unit.section), block), []).append(position)
    return covering


def paired_alternates(document: PolicyDocument, units: Sequence[Unit],
                      pairings: Sequence[PairingRecord]) -> dict[int, list[str]]:
    """Passage position -> the questions paired with it. A pairing finds its passage by the hash of its
    text (under its section first), or, were the text to read differently (another organisation name
    filled in), by section and position."""
    covering = _units_by_block(units)
    blocks: dict[str, list[tuple[Section, int]]] = {}
    for section in document.sections:
        for index, block in enumerate(section.blocks):
            blocks.setdefault(text_hash(block.text), []).append((section, index))
    found: dict[int, list[str]] = {}
    for pairing in pairings:
        if not pairing.active:
            continue
        places = blocks.get(pairing.passage_hash, [])
        place = next((p for p in places if section_key(p[0]) == pairing.section), places[0] if places else None)
        if place is None:
            section = find_section(document, pairing.section)
            if section is None or not 1 <= pairing.passage_index <= len(section.blocks):
                continue
            place = (section, pairing.passage_index - 1)
        for position in covering.get((id(place[0]), place[1]), []):
            found.setdefault(position, []).append(pairing.question)
    return found


class PolicyIndex:
    """Answers questions from one parsed policy. `alternates` maps a passage's shown text to other
    phrasings that should find it; `pairings` are questions the governance team has paired with a
    passage (domain/pairings.py), matched question to question for the passages showing it (domain/taught.py)."""

    def __init__(self, document: PolicyDocument, vocabulary: "Vocabulary | None" = None,
                 settings: RankerSettings | None = None, alternates: Mapping[str, Sequence[str]] | None = None,
                 embedder: StaticEmbedder | None = None, pairings: Sequence[PairingRecord] = ()) -> None:
        self.document = document
        self.vocabulary = vocabulary or Vocabulary.load()
        self.settings = settings or load_settings()
        self.units, passages, owners = build_units(document, self.settings.pack_limit,
                                                         self.settings.pack_paragraphs)
        self.pairings = tuple(pairings)
        taught = paired_alternates(document, self.units, self.pairings) if self.pairings else {}
        self.taught = None
        if taught:
            questions = sorted({q for qs in taught.values() for q in qs})
            owners_of = [[i for i, qs in taught.items() if q in qs] for q in questions]
            self.taught = TaughtQuestions(questions, owners_of, passages, self.settings, self._meanings,
                                          embedder or shared_embedder())
        if alternates:  # taught questions are not among them: they are matched question to question (domain/taught.py)
            passages = [Passage(p.text, p.heading, tuple(alternates.get(u.display, ()))) for u, p in zip(self.units, passages)]
        self.passages = passages
        counts = LexicalRanker.count(passages)
        model = embedder or shared_embedder()
        lexical = LexicalRanker(passages, self.settings, self._meanings, counts, model)
        semantic = SemanticRanker(passages, embedder or shared_embedder()) if self.settings.semantic_weight > 0 else None
        part_lexical = part_semantic = None
        if self.settings.part_weight > 0:
            # A section's words and vector are the sums of its passages': nothing is read twice.
            parts = _part_passages(document)
            bodies = [Counter() for _ in parts]
            for owner, body in zip(owners, counts[0]):
                bodies[owner].update(body)
            part_lexical = LexicalRanker(parts, self.settings, self._meanings, (bodies, [Counter(stems(p.heading)) for p in parts]),
                                         model)
            if semantic is not None:
                sums = np.zeros((len(parts), semantic.matrix.shape[1]), dtype=np.float32)
                np.add.at(sums, np.array(owners, dtype=np.int64), semantic.matrix)
                norms = np.linalg.norm(sums, axis=1, keepdims=True)
                norms[norms == 0] = 1.0
                part_semantic = SemanticRanker(parts, semantic.embedder, sums / norms)
        self.ranker = HybridRanker(lexical, semantic, self.settings, part_lexical, part_semantic,
                                   np.array(owners, dtype=np.int64))
        self._sections = [u.section.number or u.section.title for u in self.units]
        self._texts = [u.display for u in self.units]

    def _meanings(self, question: str) -> list[tuple[str, ...]]:
        return [means for _, means, _ in self.vocabulary.expand(question)]

    def search(self, question: str, limit: int = 3) -> SearchResult:
        if not self.units or not words(question) or is_chatter(question):
            return SearchResult(False, [])
        fused = self.ranker.rank(question)
        if self.taught is not None:
            fused = lend(fused, self.taught.scores(question))
        return self.result(fused, limit)

    def result(self, fused, limit: int = 3, settings: RankerSettings | None = None) -> SearchResult:
        settings = settings or self.settings
        picked = pick_distinct(fused, self._sections, self._texts, limit, settings.same_section_penalty)
        hits = [Hit(self.units[r.position].section.number, self.units[r.position].section.title,
                    self.units[r.position].display, round(r.score, 3)) for r in picked]
        best = hits[0].score if hits else 0.0
        answered = bool(hits) and best >= settings.answer_threshold
        return SearchResult(answered, hits, best, answered and best < settings.answer_threshold + TENTATIVE_MARGIN)

    def best_in_section(self, question: str, number: str, shown: str | None = None) -> Hit | None:
        """The passage of one section that best answers the question (a governance member named the section);
        the passage showing `shown` if the section still has it (one the bot offered)."""
        positions = [n for n, unit in enumerate(self.units) if unit.section.number == number]
        if not positions:
            return None
        same = [n for n in positions if shown and self.units[n].display == shown]
        if same:
            unit = self.units[same[0]]
            return Hit(unit.section.number, unit.section.title, unit.display, 1.0)
        fused = self.ranker.rank(question) if words(question) else np.zeros(len(self.units))
        best = max(positions, key=lambda n: fused[n])
        unit = self.units[best]
        return Hit(unit.section.number, unit.section.title, unit.display, round(float(fused[best]), 3))
