"""Finding the passages of a policy that answer a question, or saying that none does.

Each bullet or paragraph is a unit, scored with BM25 over its own words plus its
context (section title, enclosing titles, a role's name, the sentence that leads
into a list). A section-level score nudges units in the best-matching section up.
Staff phrasing is bridged to policy wording by a domain vocabulary. A question is
refused when the best passage covers too little of what it asks.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import snowballstemmer
import yaml

from domain import DATA_DIR
from domain.policy_parse import Block, PolicyDocument, Section

STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been before being below
    between both but by can can't could couldn't did didn't do does doesn't doing don't down during each few for from
    further had hadn't has hasn't have haven't having he her here hers herself him himself his how i i'd i'll i'm i've
    if in into is isn't it it's its itself just let's me more most mustn't my myself no nor not of off on once only or
    other ought our ours ourselves out over own same shan't she should shouldn't so some such than that that's the their
    theirs them themselves then there there's these they this those through to too under until up very was wasn't we
    were weren't what what's when where which while who whom why will with won't would wouldn't you your yours yourself
    yourselves also get got getting want wants wanted need needs know like please thanks thank hi hello ok okay really
    just something anything someone thing things way able going go goes went make made use used using uses us
    actually maybe still even much many lot lots etc e.g i.e tell told says said show showed shown see saw look
    happen happens happened put take took give gave new one two yes via per within without whether
    looked looking looks gets gotten needed needing wanting wanted first again anyway anyways supposed suppose basically
    exactly literally stuff bit bits quite rather kind kinds sort sorts lot loads mine ours theirs someone's there's
    here's how's who's let lets letting done doing tried trying trying try bit okay ok alright right sure fine""".split()
)
# Words so common in GenAI policies that matching them says little about the question, and words that
# frame a question ("is it allowed?") rather than say what it is about.
_GENERIC_WORDS = (
    "genai", "ai", "tool", "tools", "policy", "council", "staff", "work", "generative", "artificial",
    "intelligence", "use", "may", "must", "council's",
    "allowed", "allow", "permitted", "permit", "acceptable", "fine", "okay", "ok", "alright",
)

_stemmer = snowballstemmer.stemmer("english")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word.removesuffix("'s"))


_GENERIC = frozenset(_stem(w) for w in _GENERIC_WORDS)


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower().replace("-", " ")) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def stems(text: str) -> list[str]:
    return [_stem(w) for w in words(text)]


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
    pattern: re.Pattern
    means: tuple[str, ...]
    gapped: bool = False  # its phrases have '*' gaps: what the gap holds is the question's own words


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
            pattern = re.compile(r"(?<![\w])(?:" + "|".join(_phrase_pattern(p) for p in phrases) + r")(?![\w])")
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
        return cls(yaml.safe_load((path or DATA_DIR / "vocabulary.yaml").read_text(encoding="utf-8")))

    def expand(self, question: str) -> list[tuple[tuple[str, ...], tuple[str, ...], str]]:
        """(stems of the words the user said, stems they mean, the phrase as typed) for every phrase recognised."""
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


_DOMAIN_SIGNALS = frozenset(_stem(w) for w in (
    "ai genai chatbot chatbots tool tools app apps policy prompt prompts output outputs model models copilot "
    "dpia eqia atrs algorithm algorithms automated generative"
).split())


_WHO = re.compile(r"^\W*who(?:se|m)?\b|\bwho(?:se|m)?\s+(?:is|are|do|does|should|can|will|would|has|have|must|decides?|approves?|keeps?|owns?|looks?)\b(?!\s+(?:gets?|receives?))", re.I)
_ROLE_QUESTION = frozenset(_stem(w) for w in "who whose responsible responsibilities responsibility role roles accountable job duties".split())


@dataclass(frozen=True)
class Concept:
    said: tuple[str, ...]
    alternatives: dict[str, float]
    surface: frozenset[str] = frozenset()  # the words as typed, to prefer exact matches over stem matches
    phrase: str = ""  # a recognised multi-word phrase as typed, for whole-phrase matches

    def weight(self, idf: dict[str, float], unknown: float) -> float:
        if not self.said:
            return 0.5 * max((idf.get(t, 0.0) for t in self.alternatives), default=0.0)
        known = [idf[t] for t in self.said if t in idf]
        understood = [idf[t] for t, w in self.alternatives.items() if w < 1.0 and t in idf]
        # A word the policy never uses but the vocabulary understands weighs what it means;
        # a word neither knows is charged at a typical rarity, as evidence the question is about something else.
        weight = max(known) if known else (max(understood) if understood else unknown)
        return weight * 0.2 if all(t in _GENERIC for t in self.said) else weight


@dataclass(frozen=True)
class Unit:
    section: Section
    index: int  # position of the block in its section
    text: str
    display: str
    terms: Counter
    context: frozenset[str]
    length: int
    surface: frozenset[str] = frozenset()
    role: frozenset[str] | None = None  # stems of the role's name, for duties listed under a role
    group: str = ""  # the section, or the section and role, whose overall match informs this unit
    phrase_text: str = ""  # lower-case text and context, for whole-phrase matches


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
    coverage: float = 0.0


def _display(section: Section, block: Block) -> str:
    if block.kind == "bullet":
        prefix = f"{block.subtitle}: " if block.subtitle else ""
        lead = f"{block.lead_in} " if block.lead_in and not block.subtitle else ""
        return f"{prefix}{lead}• {block.text}"
    clause = f"{block.clause}. " if block.clause else ""
    subtitle = f"{block.subtitle}: " if block.subtitle else ""
    return f"{subtitle}{clause}{block.text}"


def _split_long(text: str, limit: int = 420) -> list[str]:
    if len(text) <= limit:
        return [text]
    sentences = re.split(r"(?<=[.;])\s+(?=[A-Z\"(])", text)
    chunks, current = [], ""
    for sentence in sentences:
        if current and len(current) + len(sentence) > limit:
            chunks.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        chunks.append(current)
    return chunks


def _trim(text: str, limit: int = 500) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return cut[: cut.rfind(" ")].rstrip(",;:") + "…"


class PolicyIndex:
    K1, B = 1.2, 0.6
    CONTEXT_WEIGHT = 0.6
    EXPANSION_WEIGHT = 0.55
    ABSENT_WORD_EXPANSION_WEIGHT = 0.75
    SECOND_WORD_SHARE = 0.7
    WHOLE_PHRASE_BONUS = 1.4
    MIN_COVERAGE = 0.6
    MIN_COVERAGE_ON_TOPIC = 0.2
    MIN_SCORE = 0.15
    COORD_FLOOR = 0.3
    PHRASE_WORD_WEIGHT = 0.6
    STEM_ONLY_FACTOR = 0.7
    ROLE_MATCH_FACTOR = 1.15
    ROLE_OTHER_FACTOR = 0.7

    def __init__(self, document: PolicyDocument, vocabulary: Vocabulary | None = None) -> None:
        self.document = document
        self.vocabulary = vocabulary or Vocabulary.load()
        self.units: list[Unit] = []
        for section in document.sections:
            context_text = " ".join([section.title, *section.parents])
            roles_section = len({b.subtitle for b in section.blocks if b.subtitle}) >= 3
            for index, block in enumerate(section.blocks):
                extra = " ".join(filter(None, [block.subtitle, block.lead_in]))
                context = frozenset(stems(f"{context_text} {extra}"))
                role = frozenset(stems(block.subtitle)) if roles_section and block.subtitle else None
                for piece in _split_long(block.text):
                    body = stems(piece)
                    shown = _display(section, Block(block.kind, piece, block.lead_in, block.subtitle, block.clause))
                    surface = frozenset(words(f"{piece} {context_text} {extra}"))
                    group = f"{section.number}|{block.subtitle}" if role else section.number
                    phrase_text = " ".join(f"{piece} {context_text} {extra}".lower().replace("-", " ").split())
                    self.units.append(
                        Unit(section, index, piece, _trim(shown), Counter(body), context, max(1, len(body)), surface,
                             role, group, phrase_text)
                    )
        self.average_length = sum(u.length for u in self.units) / max(1, len(self.units))
        frequency: Counter = Counter()
        for unit in self.units:
            frequency.update(set(unit.terms) | unit.context)
        n = max(1, len(self.units))
        self.idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in frequency.items()}
        ordered = sorted(self.idf.values())
        self.unknown_idf = ordered[int(len(ordered) * 0.6)] if ordered else 1.0
        self.typical_idf = ordered[len(ordered) // 2] if ordered else 1.0
        positions: dict[str, list[int]] = {}
        for position, unit in enumerate(self.units):
            for term in set(unit.terms) | unit.context:
                positions.setdefault(term, []).append(position)
        self.section_terms: dict[str, Counter] = {}
        for unit in self.units:
            bag = self.section_terms.setdefault(unit.group, Counter())
            bag.update(unit.terms)
        titled = {u.group: u for u in self.units}
        for group, unit in titled.items():
            title = unit.section.title + (" " + group.split("|", 1)[1] if "|" in group else "")
            self.section_terms[group].update({t: 3 for t in stems(title)})
        # Precomputed for speed: per-term weight, per-passage length norm, per-term groups.
        self._term_weight = {t: idf * (0.3 if t in _GENERIC else 1.0) for t, idf in self.idf.items()}
        self._norms = [self.K1 * (1 - self.B + self.B * u.length / self.average_length) for u in self.units]
        # Each term's passages with its BM25 score in each, so a search only multiplies and adds.
        self.postings: dict[str, list[tuple[int, float]]] = {
            term: [(p, self._term_score_at(p, term)) for p in held_by] for term, held_by in positions.items()
        }
        self.group_postings: dict[str, list[tuple[str, int]]] = {}
        for group, bag in self.section_terms.items():
            for term, count in bag.items():
                self.group_postings.setdefault(term, []).append((group, count))
        self._group_scale = {g: math.log(2 + sum(bag.values()) / 40) for g, bag in self.section_terms.items()}

    def _concepts(self, question: str) -> list[Concept]:
        """What the question asks, as concepts: each scores by its best-matching alternative word,
        so a phrase that the vocabulary expands into many words cannot outweigh a plain one."""
        expansions = self.vocabulary.expand(question)
        explained: set[str] = set()
        concepts: list[Concept] = []
        for said, means, surface in expansions:
            absent = not any(t in self.idf for t in said)
            alternatives = {t: self.ABSENT_WORD_EXPANSION_WEIGHT if absent else self.EXPANSION_WEIGHT for t in means}
            # The words of a recognised phrase ("case notes") say less one by one than the phrase means.
            literal = 1.0 if len(surface.split()) == 1 else self.PHRASE_WORD_WEIGHT
            alternatives.update({t: max(alternatives.get(t, 0.0), literal) for t in said})
            explained.update(said)
            phrase = " ".join(surface.replace("-", " ").split()) if len(surface.split()) > 1 else ""
            concepts.append(Concept(said, alternatives, frozenset(words(surface)), phrase))
        for word in dict.fromkeys(words(question)):
            term = _stem(word)
            if term not in explained:
                concepts.append(Concept((term,), {term: 1.0}, frozenset([word])))
        merged: dict[tuple, Concept] = {}
        for concept in concepts:
            key = tuple(sorted(concept.alternatives))
            merged.setdefault(key, concept)
        return list(merged.values())

    def _unit_score(self, unit: Unit, concepts: list[Concept], about_roles: bool = False) -> float:
        """One passage's score (for inspection); `_score_all` computes the same for every passage at once."""
        position = self.units.index(unit)
        return self._score_all(concepts, about_roles, {position}).get(position, 0.0)

    def _score_all(self, concepts: list[Concept], about_roles: bool, only: set[int] | None = None) -> dict[int, float]:
        """Score every passage that shares a word with the question, walking only those words' postings."""
        scores: dict[int, float] = {}
        matched: dict[int, float] = {}
        total = 0.0
        for concept in concepts:
            # Each passage's best and second-best match among the concept's alternative words.
            first: dict[int, float] = {}
            second: dict[int, float] = {}
            via_meaning: set[int] = set()
            for term, weight in concept.alternatives.items():
                postings = self.postings.get(term, ())
                if only is not None:
                    postings = [(p, s) for p, s in postings if p in only]
                if weight < 1.0:
                    via_meaning.update(p for p, _ in postings)
                for position, term_score in postings:
                    value = weight * term_score
                    best = first.get(position)
                    if best is None:
                        first[position] = value
                    elif value > best:
                        first[position], second[position] = value, best
                    elif value > second.get(position, -1.0):
                        second[position] = value
            concept_weight = concept.weight(self.idf, self.unknown_idf)
            total += concept_weight
            for position, best in first.items():
                if position in second:
                    best += self.SECOND_WORD_SHARE * second[position]
                if best <= 0:
                    continue
                unit = self.units[position]
                if concept.phrase and concept.phrase in unit.phrase_text:
                    best *= self.WHOLE_PHRASE_BONUS
                elif concept.surface and not (concept.surface & unit.surface) and position not in via_meaning:
                    best *= self.STEM_ONLY_FACTOR  # "managers" should not match "council-managed" as well as "managers"
                scores[position] = scores.get(position, 0.0) + best
                matched[position] = matched.get(position, 0.0) + concept_weight
        role_named: dict[frozenset[str], bool] = {}
        for position, score in scores.items():
            # Coordination: a passage that speaks to most of the question beats one that repeats a single word.
            score *= self.COORD_FLOOR + (1 - self.COORD_FLOOR) * (matched[position] / total if total else 0.0)
            role = self.units[position].role
            if role is not None:
                # A role's duties paraphrase the rest of the policy: they answer questions about that role.
                if role not in role_named:
                    role_named[role] = any(len(role & c.alternatives.keys()) >= min(2, len(role)) for c in concepts)
                score *= self.ROLE_MATCH_FACTOR if (role_named[role] or about_roles) else self.ROLE_OTHER_FACTOR
            scores[position] = score
        return scores

    def _term_score_at(self, position: int, term: str) -> float:
        unit = self.units[position]
        tf = unit.terms.get(term, 0) + (self.CONTEXT_WEIGHT if term in unit.context else 0.0)
        if not tf:
            return 0.0
        return self._term_weight.get(term, 0.0) * tf * (self.K1 + 1) / (tf + self._norms[position])

    def _section_scores(self, concepts: list[Concept]) -> dict[str, float]:
        scores: dict[str, float] = {}
        for concept in concepts:
            best: dict[str, float] = {}
            for term, weight in concept.alternatives.items():
                value = weight * self._term_weight.get(term, 0.0)
                for group, count in self.group_postings.get(term, ()):
                    candidate = value * math.log1p(count)
                    if candidate > best.get(group, 0.0):
                        best[group] = candidate
            for group, value in best.items():
                scores[group] = scores.get(group, 0.0) + value
        scores = {group: value / self._group_scale[group] for group, value in scores.items()}
        top = max(scores.values(), default=0.0) or 1.0
        return {k: v / top for k, v in scores.items()}

    def _coverage(self, unit: Unit, concepts: list[Concept]) -> float:
        """How much of what the question asks (weighted by rarity) this passage speaks to."""
        present = set(unit.terms) | unit.context | set(self.section_terms.get(unit.group, ()))
        total = matched = 0.0
        for concept in concepts:
            if not concept.said:
                continue  # an intent such as "can I", carried only by the words it implies
            weight = concept.weight(self.idf, self.unknown_idf)
            total += weight
            if any(t in present for t in concept.alternatives):
                matched += weight
        return matched / total if total else 0.0

    def _about_the_policy(self, question: str, concepts: list[Concept]) -> bool:
        """Does the question plainly concern AI, its tools or this policy?"""
        # The user's own words count, whether typed alone or inside a recognised phrase ("approved tools").
        if any(t in _DOMAIN_SIGNALS for c in concepts for t in c.said):
            return True
        return any("genai" in c.alternatives for c in concepts)

    def search(self, question: str, limit: int = 3) -> SearchResult:
        concepts = self._concepts(question)
        if not any(term in self.postings for c in concepts for term in c.alternatives):
            return SearchResult(False, [])
        section_scores = self._section_scores(concepts)
        about_roles = bool(_WHO.search(question)) or any(t in _ROLE_QUESTION for c in concepts for t in c.said)
        unit_scores = self._score_all(concepts, about_roles)
        scored = sorted(
            ((score * (0.55 + 0.45 * section_scores.get(self.units[p].group, 0.0)), p) for p, score in unit_scores.items()),
            reverse=True,
        )
        hits: list[Hit] = []
        best_unit: Unit | None = None
        seen_sections: set[str] = set()
        for score, position in scored:
            unit = self.units[position]
            if unit.section.number in seen_sections:
                continue
            seen_sections.add(unit.section.number)
            best_unit = best_unit or unit
            hits.append(Hit(unit.section.number, unit.section.title, unit.display, round(score, 3)))
            if len(hits) == limit:
                break
        coverage = self._coverage(best_unit, concepts) if best_unit else 0.0
        needed = self.MIN_COVERAGE_ON_TOPIC if self._about_the_policy(question, concepts) else self.MIN_COVERAGE
        answered = bool(hits) and coverage >= needed and hits[0].score >= self.MIN_SCORE * self.typical_idf
        return SearchResult(answered, hits, round(coverage, 3))
