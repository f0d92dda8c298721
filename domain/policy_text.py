"""Reading policy files into raw lines, and cleaning what real documents contain.

A `RawLine` keeps what the file says about structure (a Markdown or Word heading
level, a list paragraph) so that the parser does not have to guess it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from domain.policy_lines import PolicyFileError, RawLine, clean_text  # noqa: F401  (also imported from here)


@dataclass(frozen=True)
class Placeholders:
    org_name: str
    authority_name: str
    authority_contact: str


_EDITORIAL = re.compile(r"^\s*(optional|add|remove|amend|delete|note|guidance|tip|example|drafting|edit)\b", re.I)
_PLACEHOLDER = re.compile(r"\[([^\[\]]{1,300})\]\.?")
_STRAY = re.compile(
    r"^(related resources?|back to top|contents|table of contents|page \d+( of \d+)?|\d+|end of (policy|document)|"
    r"[-*_=]{3,})\.?$",
    re.I,
)
_TOC_ENTRY = re.compile(r"(\.{4,}|\s{2,}|\t)\s*\d+\s*$")


def fill_placeholders(text: str, values: Placeholders) -> str:
    """Fill the template's [insert …] gaps from settings; drop editorial notes in brackets."""

    def replace(match: re.Match) -> str:
        inner = match.group(1).strip()
        lower = inner.lower()
        trailing = "." if match.group(0).endswith(".") else ""
        if _EDITORIAL.match(lower) or "as appropriate" in lower:
            return ""
        if not re.search(r"\b(insert|enter|name of|your organi[sz]ation|your council|organi[sz]ation name)\b", lower):
            return match.group(0)  # ordinary brackets in prose stay as written
        if "contact" in lower or "email" in lower or "e-mail" in lower or "address" in lower:
            return values.authority_contact + trailing
        if "authority" in lower or "governance" in lower or "board" in lower or "lead" in lower:
            return values.authority_name + trailing
        if "organi" in lower or "council" in lower or "authority name" in lower:
            return values.org_name + trailing
        return ""

    filled = _PLACEHOLDER.sub(replace, text)
    filled = re.sub(r"\s+([.,;:])", r"\1", filled)
    return re.sub(r"\s{2,}", " ", filled).strip()


def is_noise(text: str) -> bool:
    return not text or bool(_STRAY.match(text)) or bool(_TOC_ENTRY.search(text))


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)\s]*\)")
_CHECKBOX = re.compile(r"^(\s*(?:[-*+]|\d+[.)])\s+)\[[ xX]\]\s+")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table_rows(header: list[str], rows: list[list[str]]) -> list[RawLine]:
    """A Markdown table, one row a line: 'first cell - header: cell; header: cell'."""
    out = [RawLine("")]
    for cells in rows:
        cells = [c for c in cells]
        if not any(cells):
            continue
        rest = "; ".join(f"{h}: {c}" if h else c for h, c in zip(header[1:], cells[1:]) if c)
        out.append(RawLine(f"{cells[0]} - {rest}" if rest else cells[0], is_list=True))
    out.append(RawLine(""))
    return out


def _markdown_lines(raw: str) -> list[RawLine]:
    lines: list[RawLine] = []
    source = raw.splitlines()
    position = 0
    while position < len(source):
        line = _LINK.sub(r"\1", source[position])
        line = _CHECKBOX.sub(r"\1", line)
        stripped = line.strip()
        position += 1
        if stripped.startswith("|") and position < len(source) and _TABLE_RULE.match(source[position].strip()):
            header = _cells(stripped)
            position += 1
            rows = []
            while position < len(source) and source[position].strip().startswith("|"):
                rows.append(_cells(_LINK.sub(r"\1", source[position])))
                position += 1
            lines.extend(_table_rows(header, rows))
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        if heading:
            title = re.sub(r"\*\*|__", "", heading.group(2)).strip().strip("#").strip()
            lines.append(RawLine(title, heading_level=len(heading.group(1))))
            continue
        bold = re.fullmatch(r"\*\*([^*]+)\*\*:?", stripped)  # a bold line, as some exports write headings
        stripped = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), stripped)
        stripped = stripped.replace("`", "")
        lines.append(RawLine(line.rstrip() if line.startswith((" ", "\t")) else stripped, emphasised=bold is not None))
    return lines


def _docx_lines(path: Path) -> list[RawLine]:
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover - python-docx is a dependency
        raise PolicyFileError("reading .docx needs python-docx") from exc
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several types for damaged files
        raise PolicyFileError(f"{path.name} is not a readable Word document ({type(exc).__name__})") from None

    lines: list[RawLine] = []

    def paragraph_line(paragraph: Paragraph) -> RawLine | None:
        text = paragraph.text.strip()
        if not text:
            return RawLine("")
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = None
        match = re.match(r"heading\s*(\d)", style, re.I)
        if match:
            level = int(match.group(1))
        elif style.lower() == "title":
            level = 1
        properties = paragraph._p.pPr
        numbered = properties is not None and properties.numPr is not None
        is_list = level is None and (numbered or "list" in style.lower())
        return RawLine(text, heading_level=level, is_list=is_list)

    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            line = paragraph_line(Paragraph(child, document))
            if line is not None:
                lines.append(line)
        elif tag == "tbl":
            # Policies often put roles in a two-column table: each row becomes a titled block.
            for row in Table(child, document).rows:
                cells = [cell.text.strip() for cell in row.cells]
                cells = [c for i, c in enumerate(cells) if c and c not in cells[:i]]
                if len(cells) >= 2 and len(cells[0]) <= 80:
                    lines.append(RawLine(""))
                    lines.append(RawLine(cells[0] + ":"))
                    for part in cells[1:]:
                        for piece in part.splitlines():
                            if piece.strip():
                                lines.append(RawLine(piece.strip(), is_list=True))
                elif cells:
                    lines.append(RawLine(" ".join(cells)))
            lines.append(RawLine(""))
    return lines


def read_policy_lines(path: Path) -> list[RawLine]:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise PolicyFileError(f"there is no file at {path}")
    if suffix == ".docx":
        lines = _docx_lines(path)
    elif suffix == ".pdf":
        from domain.policy_formats import pdf_lines

        lines = pdf_lines(path)
    elif suffix in (".md", ".markdown", ".txt", ".text", ".html", ".htm", ""):
        try:
            raw = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raw = path.read_text(encoding="cp1252", errors="replace")
        if suffix in (".html", ".htm"):
            from domain.policy_formats import html_lines

            lines = html_lines(raw)
        else:
            lines = _markdown_lines(raw)
    else:
        raise PolicyFileError(
            f"{path.name}: use a Markdown (.md), plain text (.txt), Word (.docx), PDF (.pdf) or web page (.html) file"
        )
    if sum(len(line.text.split()) for line in lines) < 20:
        raise PolicyFileError(
            f"{path.name} has no readable text (fewer than 20 words); if it is a scanned PDF, "
            "save it with its text (OCR) first"
        )
    return lines


def policy_source_text(path: Path) -> str:
    """The text that is stored and hashed for a published version (Word files as their paragraphs)."""
    lines = read_policy_lines(path)
    out = []
    for line in lines:
        if line.heading_level:
            out.append("#" * line.heading_level + " " + line.text)
        elif line.is_list:
            out.append("- " + line.text)
        elif line.emphasised:
            out.append(f"**{line.text}**")
        else:
            out.append(line.text)
    return "\n".join(out).strip() + "\n"
