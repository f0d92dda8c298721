"""Reading HTML pages and PDF files into raw lines that keep what their layout says about structure.

HTML: the headings (h1-h6), list items, paragraphs and table rows of the page's main content,
read with selectolax (a maintained, fast HTML5 parser); navigation, scripts and page chrome are
left out. PDF: the text and font of every run, read with pypdf; a line set larger than the body
text, or a short line wholly in bold, is a heading, and larger type is a higher level. Lines that
wrap are joined back into paragraphs and list items using the vertical gaps between them.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from domain.policy_lines import PolicyFileError, RawLine, clean_text

_SKIP = frozenset("script style noscript template nav header footer aside form button svg iframe head select".split())
_BLOCK = frozenset(
    "address article aside blockquote body dd details dialog div dl dt fieldset figcaption figure footer form h1 h2 h3 "
    "h4 h5 h6 header hr li main nav ol p pre section summary table tbody thead tfoot tr td th ul caption".split()
)
_CHROME = re.compile(r"(^|[\s_-])(breadcrumb|cookie|skip-?link|site-?header|site-?footer|sidebar|menu|share|banner)", re.I)


def _is_chrome(node) -> bool:
    attributes = node.attributes or {}
    names = f"{attributes.get('class') or ''} {attributes.get('id') or ''} {attributes.get('role') or ''}"
    return bool(_CHROME.search(names)) or attributes.get("aria-hidden") == "true" or "hidden" in attributes


def html_lines(raw: str) -> list[RawLine]:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(raw)
    root = tree.css_first("main") or tree.css_first("[role=main]") or tree.css_first("article") or tree.body
    if root is None:
        return []
    lines: list[RawLine] = []
    inline: list[str] = []

    def flush_inline(is_list: bool = False) -> None:
        text = " ".join("".join(inline).split())
        inline.clear()
        if text:
            lines.append(RawLine(text, is_list=is_list))

    def walk(node, in_list: bool = False) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                inline.append(child.text_content or "")
                continue
            if tag in _SKIP or tag == "-comment" or (tag in ("div", "section", "ul") and _is_chrome(child)):
                continue
            if tag == "br":
                inline.append("\n")
                flush_inline(in_list)
                continue
            if tag not in _BLOCK:
                walk_inline(child)
                continue
            flush_inline(in_list)
            if re.fullmatch(r"h[1-6]", tag):
                text = " ".join(child.text(deep=True, separator=" ").split())
                if text:
                    lines.append(RawLine(""))
                    lines.append(RawLine(text, heading_level=int(tag[1])))
            elif tag == "li":
                walk(child, in_list=True)
                flush_inline(True)
            elif tag == "tr":
                cells = [" ".join(c.text(deep=True, separator=" ").split()) for c in child.css("td, th")]
                cells = [c for i, c in enumerate(cells) if c and c not in cells[:i]]
                if len(cells) >= 2 and len(cells[0]) <= 80:
                    lines.append(RawLine(""))
                    lines.append(RawLine(cells[0] + ":"))
                    lines.extend(RawLine(c, is_list=True) for c in cells[1:])
                    lines.append(RawLine(""))
                elif cells:
                    lines.append(RawLine(" ".join(cells)))
            elif tag in ("summary", "dt"):
                text = " ".join(child.text(deep=True, separator=" ").split())
                if text:
                    lines.append(RawLine(""))
                    lines.append(RawLine(text, heading_level=6 if text.endswith("?") else None))
            else:
                if tag in ("p", "div", "section", "article", "dd", "blockquote", "ul", "ol", "table", "details"):
                    if not in_list:
                        lines.append(RawLine(""))
                walk(child, in_list)
                flush_inline(in_list)
                if tag in ("p", "div", "dd", "ul", "ol", "table") and not in_list:
                    lines.append(RawLine(""))

    def walk_inline(node) -> None:
        for child in node.iter(include_text=True):
            if child.tag == "-text":
                inline.append(child.text_content or "")
            elif child.tag == "br":
                inline.append(" ")
            elif child.tag not in _SKIP:
                walk_inline(child)

    walk(root)
    flush_inline()
    return lines


@dataclass
class _Run:
    text: str
    size: float
    bold: bool
    y: float


def pdf_lines(path: Path) -> list[RawLine]:
    # pypdf logs every oddity of a damaged file as a warning; the user gets one plain message instead.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:
                raise PolicyFileError(f"{path.name} is a password-protected PDF; save an unprotected copy") from None
        physical: list[tuple[str, float, bool, float, int]] = []  # text, size, bold, y, page
        for page_number, page in enumerate(reader.pages):
            runs: list[_Run] = []

            def visit(text, cm, tm, font, font_size, runs=runs):
                if not text:
                    return
                scale = abs(tm[3] * cm[3]) or abs(tm[0] * cm[0]) or 1.0
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                name = str((font or {}).get("/BaseFont", "")) if font else ""
                runs.append(_Run(text, round(font_size * scale, 1), bool(re.search(r"bold|black|heavy|semibold", name, re.I)), y))

            page.extract_text(visitor_text=visit)
            current: list[_Run] = []

            def end_line() -> None:
                text = "".join(r.text for r in current).strip()
                visible = [r for r in current if r.text.strip()]
                if text and visible:
                    size = max(r.size for r in visible)
                    bold = all(r.bold for r in visible)
                    physical.append((text, size, bold, visible[0].y, page_number))
                current.clear()

            for run in runs:
                pieces = run.text.split("\n")
                for i, piece in enumerate(pieces):
                    if i:
                        end_line()
                    if piece:
                        current.append(_Run(piece, run.size, run.bold, run.y))
            end_line()
    except PolicyFileError:
        raise
    except Exception as exc:  # pypdf raises many types for damaged files
        raise PolicyFileError(f"{path.name} is not a readable PDF ({type(exc).__name__})") from None
    return _pdf_structure(physical)


_BULLET_START = re.compile(r"^([•●◦▪■□‣⁃·∙\-–*]|\(?[a-z]\)|\(?[ivx]{1,4}\)|\d{1,2}[.)])\s+")


def _pdf_structure(physical: list[tuple[str, float, bool, float, int]]) -> list[RawLine]:
    if not physical:
        return []
    weight = Counter()
    for text, size, _, _, _ in physical:
        weight[size] += len(text)
    body = weight.most_common(1)[0][0]
    larger = sorted({s for s, _, in ((p[1], 0) for p in physical) if s >= body * 1.12}, reverse=True)
    levels = {size: min(i + 1, 4) for i, size in enumerate(larger)}
    gaps = [abs(a[3] - b[3]) for a, b in zip(physical, physical[1:]) if a[4] == b[4] and a[1] == body == b[1]]
    gaps = [g for g in gaps if g > 0]
    spacing = sorted(gaps)[len(gaps) // 2] if gaps else body * 1.2
    lines: list[RawLine] = []
    previous = None
    for text, size, bold, y, page in physical:
        text = clean_text(text)
        if not text:
            continue
        gap = abs(previous[3] - y) if previous and previous[4] == page else None
        close = gap is not None and gap <= max(spacing * size / body, size * 1.15) * 1.35
        # A sentence that runs on over a page break: the next page starts in lower case, in the same type.
        close = close or bool(previous and previous[4] != page and previous[1] == size and text[:1].islower()
                              and lines and not lines[-1].text.endswith((".", "!", "?", ":")))
        if previous and close and previous[1] == size and lines and lines[-1].text and not _BULLET_START.match(text) \
                and (lines[-1].heading_level is None or previous[2] == bold):
            last = lines[-1]  # a wrapped line of the same paragraph, item or heading
            hyphen = last.text.endswith("-") and text[:1].islower()
            lines[-1] = RawLine(last.text[:-1] + text if hyphen else last.text + " " + text, last.heading_level, last.is_list)
        else:
            heading_level = levels.get(size)
            if heading_level is None and bold and len(text) <= 90 and not text.endswith((".", ",", ";")) \
                    and not _BULLET_START.match(text):
                heading_level = len(levels) + 1
            if heading_level or not close or (previous and previous[1] != size):
                lines.append(RawLine(""))
            lines.append(RawLine(text, heading_level=heading_level))
        previous = (text, size, bold, y, page)
    return lines
