"""Which command a short message was probably a mistyping of ("requst tool", "my request", "polcy").

A message that is nearly a command, and is no longer than one, is more likely a slip of the keys than a
question about the policy, so it is offered the command instead of a search that would quote something
unrelated. Close means difflib's ratio of at least CUTOFF over the whole message; a real question is
longer than any command and so never close.
"""

from __future__ import annotations

import difflib
from typing import Iterable

CUTOFF = 0.84
MAX_WORDS = 4


def meant_command(text: str, commands: Iterable[str]) -> str | None:
    """The command `text` is nearly, or None (also when it is one exactly: that is routed already)."""
    plain = " ".join(text.casefold().strip().strip("/!.?").split())
    choices = sorted(set(commands))
    if not plain or len(plain.split()) > MAX_WORDS or plain in choices:
        return None
    close = difflib.get_close_matches(plain, choices, n=1, cutoff=CUTOFF)
    return close[0] if close else None
