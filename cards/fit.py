"""Cards that fit in one Teams message, however long what people typed.

Teams counts a message in UTF-16 and refuses one over about 100 KB (413 MessageSizeTooBig); Microsoft
advises keeping it under 80 KB. We measure each card as it is serialised, in UTF-8 bytes, and keep it
under CARD_BUDGET_BYTES (28,000):
- UTF-16 takes at most twice the bytes of UTF-8 (for plain ASCII; an emoji is 4 bytes in both), so a card
  within budget is under 56 KB as Teams counts it. That leaves over 20 KB of the 80 for the rest of the
  activity (its text, summary and addresses) and for a notice line added to a card later.
- Characters are the wrong measure: an emoji is 4 bytes, an escaped markdown character two characters,
  and a control character six bytes of JSON.

A builder draws its card with an Echo, which shows what people typed safely (cards.common.safe). If the
card is over budget, `fit` draws it again with every echoed text cut shorter, then lists shorter, until it
fits. Each cut says so, and where the whole text is: "… (shortened; full text kept with REQ-2026-0001)".
"""

from __future__ import annotations

import json
from typing import Callable, Sequence, TypeVar

from cards.common import safe

CARD_BUDGET_BYTES = 28_000
# (longest echoed text in characters, most items of a list) for each drawing, until one fits
STEPS: tuple[tuple[int | None, int | None], ...] = (
    (None, None), (1500, None), (800, None), (400, 40), (200, 20), (100, 12), (50, 8), (25, 5),
)
T = TypeVar("T")


def card_bytes(card: dict) -> int:
    """The card's size as sent: compact JSON, UTF-8 (a lone surrogate counted, not fatal)."""
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


class Echo:
    """Shows text people typed (or long text from elsewhere), cut to this drawing's limit with a visible note."""

    def __init__(self, limit: int | None = None, items: int | None = None, *, kept_with: str = "") -> None:
        self.limit = limit
        self.items = items
        self._kept_with = kept_with
        self.shortened = False  # whether anything was cut in this drawing

    def _cut(self, text: str) -> tuple[str, bool]:
        if self.limit is None or len(text) <= self.limit:
            return text, False
        self.shortened = True
        return text[:self.limit].rstrip(), True

    def __call__(self, text: str | None, *, kept_with: str | None = None) -> str:
        """User text, escaped so it can't inject markdown or mentions; cut, with where the full text is kept."""
        kept, cut = self._cut(text or "")
        if not cut:
            return safe(kept)
        return f"{safe(kept)}… (shortened; full text kept with {safe(kept_with or self._kept_with)})"

    def markdown(self, text: str, *, whole: str) -> str:
        """Text that is already markdown (policy wording), cut with a note saying where the whole of it is."""
        kept, cut = self._cut(text)
        return f"{kept}… *(shortened; {whole})*" if cut else kept

    def value(self, text: str | None) -> str | None:
        """What someone typed, put back in a form input. Cut only when nothing else makes the card fit, and
        then the form says so (see `shortened`)."""
        return self._cut(text)[0] if text else text

    def first(self, items: Sequence[T]) -> tuple[Sequence[T], int]:
        """As many items as this drawing allows, and how many are left out."""
        if self.items is None or len(items) <= self.items:
            return items, 0
        self.shortened = True
        return items[:self.items], len(items) - self.items

    def last(self, items: Sequence[T]) -> tuple[Sequence[T], int]:
        """The most recent items this drawing allows, and how many earlier ones are left out."""
        if self.items is None or len(items) <= self.items:
            return items, 0
        self.shortened = True
        return items[-self.items:], len(items) - self.items


def fit(draw: Callable[[Echo], dict], *, kept_with: str = "") -> dict:
    """The first drawing of the card that is within budget. The tests hold every builder's worst case within
    it, so the last, smallest drawing is only a fallback."""
    card: dict = {}
    for limit, items in STEPS:
        card = draw(Echo(limit, items, kept_with=kept_with))
        if card_bytes(card) <= CARD_BUDGET_BYTES:
            return card
    return card
