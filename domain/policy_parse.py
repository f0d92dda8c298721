"""From cleaned lines to numbered sections made of paragraphs and bullets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domain.policy_text import Placeholders, RawLine, _markdown_lines, clean_text, fill_placeholders, is_noise

_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\)?\s+(\S.*)$")
_BULLET = re.compile(r"^(?:[•●◦▪■□‣⁃·∙*+\-o]|\(?[a-z]\)|\(?[ivx]{1,4}\)|\(?\d{1,2}\)|[a-z]\.)\s+(\S.*)$")


@dataclass
class Block:
    kind: str  # "para" or "bullet"
    text: str
    lead_in: str | None = None  # the sentence that introduces a list ("Staff must not:")
    subtitle: str | None = None  # an unnumbered heading inside the section, such as a role's name
    clause: str | None = None  # a paragraph's own number, e.g. 7.1.2


@dataclass
class Section:
    number: str
    title: str
    level: int
    parents: list[str] = field(default_factory=list)  # titles of the enclosing sections
    blocks: list[Block] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}".strip()

    def full_text(self) -> str:
        # Markdown needs a blank line between a list and the paragraph after it.
        text, subtitle, previous = "", None, None
        for block in self.blocks:
            if block.subtitle and block.subtitle != subtitle:
                text += f"\n\n{block.subtitle}:"
                previous = "para"
            subtitle = block.subtitle
            prefix = f"{block.clause}. " if block.clause else ("- " if block.kind == "bullet" else "")
            joiner = "\n" if block.kind == "bullet" and previous == "bullet" else "\n\n"
            text += joiner + prefix + block.text
            previous = block.kind
        return text.strip()


@dataclass
class PolicyDocument:
    title: str
    sections: list[Section]

    def section(self, number: str) -> Section | None:
        return next((s for s in self.sections if s.number == number), None)


def _title_like(text: str) -> bool:
    words = text.split()
    return (
        0 < len(words) <= 12
        and len(text) <= 90
        and not text.endswith((".", ",", ";", ":", "?"))
        and (text[0].isupper() or text[0].isdigit())
    )


_SENTENCE_WORDS = re.compile(
    r"\b(may|must|should|shall|will|can|could|to|are|is|be|include|includes|including|following|you|we|they|staff must)\b",
    re.I,
)


_QUESTION_START = re.compile(
    r"^(can|could|may|should|must|do|does|did|is|are|am|will|would|what|when|where|who|whom|whose|why|how|which|"
    r"have|has)\b", re.I)


def _question_heading(text: str) -> bool:
    """'Can I use ChatGPT for work?' on a line of its own heads the answer that follows it."""
    return text.endswith("?") and len(text) <= 160 and bool(_QUESTION_START.match(text))


def _names_something(text: str) -> bool:
    """'Data Protection Officer:' names a role; 'Staff may use approved tools to:' leads into a list."""
    return len(text.split()) <= 7 and not _SENTENCE_WORDS.search(text)


def _depth(number: str) -> int:
    return number.count(".") + 1


class _Builder:
    def __init__(self) -> None:
        self.title = ""
        self.sections: list[Section] = []
        self.counters: list[int] = []
        self.subtitle: str | None = None
        self.lead_in: str | None = None
        self.pending: list[str] = []  # lines of a paragraph still being joined
        self.pending_clause: str | None = None
        self.any_numbered = False
        self.label = False  # the subtitle is a "Label:" line, which ends with the list after it
        self.item_lead: tuple[int, str] | None = None  # a list item ending in ':' and its indent, for deeper items
        self.real_depth = 0  # the depth of the section of the last heading the file marks as one (not a bold line)

    @property
    def current(self) -> Section | None:
        return self.sections[-1] if self.sections else None

    def flush(self) -> None:
        if not self.pending:
            return
        text = " ".join(self.pending).strip()
        self.pending = []
        clause, self.pending_clause = self.pending_clause, None
        if not text:
            return
        if self.current is None:
            self.start_section("", self.title or "Introduction", 1)
        self.current.blocks.append(Block("para", text, subtitle=self.subtitle, clause=clause))
        self.lead_in = text if text.endswith(":") else None

    def start_section(self, number: str, title: str, level: int) -> None:
        self.flush()
        parents = [s.title for s in self.sections if s.number and number.startswith(s.number + ".")]
        self.sections.append(Section(number, title, level, parents[-2:]))
        self.subtitle = None
        self.lead_in = None
        self.label = False

    def numbered_heading(self, number: str, title: str) -> None:
        parts = [int(p) for p in number.split(".")]
        if len(parts) == 1 and self.counters and parts[0] == self.counters[0] + 2:
            self.promote_lost_heading(self.counters[0] + 1)
        self.counters = parts
        self.any_numbered = True
        self.start_section(number, title, len(parts))

    def promote_lost_heading(self, number: int) -> None:
        """Numbering jumped from N to N+2: an unnumbered title closing section N was section N+1."""
        self.flush()
        current = self.current
        if current is None or not current.blocks:
            return
        last = current.blocks[-1].subtitle
        if not last:
            return
        start = next(i for i, b in enumerate(current.blocks) if b.subtitle == last)
        if any(b.subtitle != last for b in current.blocks[start:]):
            return
        moved = current.blocks[start:]
        del current.blocks[start:]
        for block in moved:
            block.subtitle = None
        self.sections.append(Section(str(number), last, 1, [], moved))

    def inferred_heading(self, title: str, level: int) -> None:
        """A heading without a number: count it from its level, as Word's automatic numbering would."""
        level = max(1, min(level, len(self.counters) + 1))
        counters = self.counters[:level]
        while len(counters) < level:
            counters.append(0)
        counters[-1] += 1
        self.counters = counters
        self.start_section(".".join(map(str, counters)), title, level)

    def file_heading(self, text: str, level: int, number: re.Match | None, numbered_headings: bool) -> None:
        """A heading the file marks as one (Markdown '#', a Word or HTML heading, a PDF's larger type);
        `level` counts from the document's top-level sections (1)."""
        if number and (numbered_headings or level == 1 and self.continues_numbering(number.group(1).rstrip("."))):
            self.numbered_heading(number.group(1).rstrip("."), number.group(2).strip())
        elif not self.sections and not self.title:
            self.title = text
        elif level <= 1 or not numbered_headings:
            self.inferred_heading(text, level)
        else:
            self.add_subtitle(text)
        self.real_depth = len(self.counters)

    def bold_line(self, text: str, number: re.Match | None) -> None:
        """A whole bold line under real headings: a label if it ends in ':', else a minor heading
        one level below the last real one (its own number dropped)."""
        if text.endswith(":"):
            self.add_subtitle(text, label=True)
        else:
            self.inferred_heading(number.group(2) if number else text, self.real_depth + 1)

    def add_subtitle(self, title: str, label: bool = False) -> None:
        self.flush()
        self.subtitle = title.rstrip(":").strip()
        self.lead_in = None
        self.label = label

    def blank_line(self) -> None:
        """A blank line after a list ends the "Label:" that headed it (a table row's label, a bold label line)."""
        self.flush()
        if self.label and self.current and self.current.blocks and self.current.blocks[-1].kind == "bullet":
            self.subtitle, self.label, self.lead_in = None, False, None

    def add_bullet(self, text: str, indent: int = 0) -> None:
        """A list item; one indented under an item that ends in ':' is led in by that item."""
        self.flush()
        if self.current is None:
            self.start_section("", self.title or "Introduction", 1)
        lead = self.lead_in
        if self.item_lead and indent > self.item_lead[0]:
            lead = self.item_lead[1]
        else:
            self.item_lead = (indent, text) if text.endswith(":") else None
        self.current.blocks.append(Block("bullet", text, lead_in=lead, subtitle=self.subtitle))

    def continues_numbering(self, number: str) -> bool:
        parts = [int(p) for p in number.split(".")]
        if not self.counters:
            return parts[0] <= 2 and len(parts) == 1 or parts[:1] == [1]
        if len(parts) == 1:
            return parts[0] in (self.counters[0] + 1, self.counters[0] + 2)
        return parts[0] == self.counters[0] and parts[-1] >= 1


def _heading_levels(lines: list[RawLine]) -> int:
    """The Markdown/Word level used for top-level sections: that of the numbered ones where most headings
    are numbered, else the highest level in use below a lone title."""
    headings = [l for l in lines if l.heading_level and clean_text(l.text)]
    numbered = [l for l in headings if _NUMBERED.match(clean_text(l.text))]
    if len(numbered) * 2 < len(headings):
        levels = sorted(l.heading_level for l in headings)
        if len(levels) > 1 and levels.count(levels[0]) == 1:
            return levels[1]  # the document's title sits alone above its sections
        return levels[0] if levels else 1
    for line in lines:
        if line.heading_level and _NUMBERED.match(clean_text(line.text)):
            number = _NUMBERED.match(clean_text(line.text)).group(1)
            return line.heading_level - (_depth(number) - 1)
    return min((line.heading_level for line in lines if line.heading_level), default=1)


def parse_lines(lines: list[RawLine], placeholders: Placeholders) -> PolicyDocument:
    builder = _Builder()
    top_level = _heading_levels(lines)
    headings = [l for l in lines if l.heading_level and clean_text(l.text)]
    has_headings = len(headings) > 1
    numbered_headings = sum(bool(_NUMBERED.match(clean_text(l.text))) for l in headings) * 2 >= len(headings) > 0
    title_line = headings[0] if headings and [l.heading_level for l in headings].count(headings[0].heading_level) == 1 \
        and headings[0].heading_level == min(l.heading_level for l in headings) and len(headings) > 1 else None
    for raw in lines:
        text = fill_placeholders(clean_text(raw.text), placeholders)
        if is_noise(text):
            if not text:
                builder.blank_line()
            continue
        number_match = _NUMBERED.match(text)
        if raw is title_line and not builder.title:
            builder.title = text
            continue
        if raw.heading_level:
            builder.file_heading(text, raw.heading_level - top_level + 1, number_match, numbered_headings)
            continue
        if raw.emphasised and has_headings and not raw.is_list and _title_like(text.rstrip(":")) and (
                not text.endswith(":") or _names_something(text[:-1])):
            builder.bold_line(text, number_match)
            continue
        if number_match and _title_like(number_match.group(2)) and builder.continues_numbering(number_match.group(1)):
            builder.numbered_heading(number_match.group(1).rstrip("."), number_match.group(2).strip())
            continue
        if number_match and "." in number_match.group(1) and builder.counters and \
                int(number_match.group(1).split(".")[0]) == builder.counters[0]:
            builder.flush()  # a numbered clause starts a new paragraph that keeps its number
            builder.pending_clause = number_match.group(1)
            builder.pending.append(number_match.group(2))
            continue
        bullet = _BULLET.match(text)
        if raw.is_list or bullet or number_match:
            builder.add_bullet(bullet.group(1) if bullet else (number_match.group(2) if number_match else text),
                               len(raw.text) - len(raw.text.lstrip()))
            continue
        if raw.text[:1] in (" ", "\t") and builder.current and builder.current.blocks and not builder.pending:
            builder.current.blocks[-1].text += " " + text  # a wrapped bullet or paragraph line
            continue
        if _question_heading(text) and not builder.pending:
            builder.add_subtitle(text)  # an FAQ question: the paragraphs after it are its answer
            continue
        if _title_like(text) and not builder.pending and _names_something(text) and ": " not in text:
            if not builder.sections and not builder.title:
                builder.title = text
            else:
                builder.add_subtitle(text)
            continue
        if text.endswith(":") and len(text) <= 80 and not builder.pending and _title_like(text[:-1]) and _names_something(text[:-1]):
            builder.add_subtitle(text, label=True)  # "Data Protection Officer:" introducing a role's duties
            continue
        builder.pending.append(text)
        if text.endswith((".", ":", "?", "!")) and len(text) > 40:
            builder.flush()
    builder.flush()
    sections = [s for s in builder.sections if s.blocks or any(o.number.startswith(s.number + ".") for o in builder.sections)]
    return PolicyDocument(builder.title or "Policy", sections)


def parse_policy(text: str, placeholders: Placeholders) -> PolicyDocument:
    return parse_lines(_markdown_lines(text), placeholders)
