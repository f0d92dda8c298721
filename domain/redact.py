"""Spotting personal data in what staff type, so that only a redacted copy is ever stored."""

from __future__ import annotations

import re
from dataclasses import dataclass

_EMAIL = re.compile(r"\b[\w.+'-]+@[\w-]+(?:\.[\w-]+)+\b")
# Wider than HMRC's rules on purpose: anything shaped like an NI number is treated as one.
_NI_NUMBER = re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b", re.I)
_NHS_NUMBER = re.compile(r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b")
_PHONE = re.compile(r"(?<![\w])(?:\+44\s?\(?0?\)?\s?|\(?0)\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}(?![\w])")
_DATE = re.compile(
    r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}|\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?:19|20)\d{2})\b",
    re.I,
)
_BIRTH_CONTEXT = re.compile(r"\b(?:born|dob|d\.o\.b|date of birth|birthday)\b", re.I)
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b", re.I)
_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+[A-Z][a-z]+|\b[A-Z][a-z]+\s+[A-Z][a-z]{2,}\b")


def _nhs_checksum_ok(digits: str) -> bool:
    numbers = [int(d) for d in digits]
    total = sum(n * w for n, w in zip(numbers[:9], range(10, 1, -1)))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == numbers[9]


@dataclass(frozen=True)
class Redaction:
    text: str
    kinds: tuple[str, ...]

    @property
    def found(self) -> bool:
        return bool(self.kinds)


def redact(text: str) -> Redaction:
    kinds: list[str] = []

    def mark(kind: str, label: str):
        def replace(match: re.Match) -> str:
            kinds.append(kind)
            return f"[{label}]"

        return replace

    text = _EMAIL.sub(mark("email address", "email"), text)
    text = _NI_NUMBER.sub(mark("National Insurance number", "NI number"), text)

    def nhs(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if _nhs_checksum_ok(digits):
            kinds.append("NHS number")
            return "[NHS number]"
        return match.group(0)

    text = _NHS_NUMBER.sub(nhs, text)
    text = _PHONE.sub(mark("phone number", "phone"), text)
    if _BIRTH_CONTEXT.search(text):
        text = _DATE.sub(mark("date of birth", "date"), text)
    if _POSTCODE.search(text) and _NAME.search(text):
        text = _POSTCODE.sub(mark("postcode next to a name", "postcode"), text)
        text = _NAME.sub(mark("name", "name"), text)
    return Redaction(text, tuple(dict.fromkeys(kinds)))
