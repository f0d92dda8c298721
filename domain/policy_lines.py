"""What reading any policy file produces: raw lines, cleaned text, and the one error it raises.

Shared by policy_text (Markdown, plain text, Word) and policy_formats (HTML, PDF), so that neither
has to import the other's vocabulary.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


class PolicyFileError(ValueError):
    """The policy file cannot be read; the message says why in plain words."""


@dataclass(frozen=True)
class RawLine:
    text: str
    heading_level: int | None = None  # from Markdown '#' or a Word Heading style
    is_list: bool = False  # a Word list paragraph or a Markdown bullet
    emphasised: bool = False  # the whole line is bold, as many exports write a minor heading or a label


_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
        "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
        "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200a": " ", "\t": " ",
        "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None, "\u00ad": None,
        "\u2026": "...",
    }
)


def clean_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.translate(_TYPOGRAPHY))
    return re.sub(r"[ ]{2,}", " ", text).strip()
