"""Messages that are not questions: greetings, thanks, sign-offs and bare numbers.

They get a friendly pointer to `help` rather than "the policy doesn't cover that". The test is
on the whole message (once punctuation, emoji and the bot's name are set aside), so a question
that merely starts with "hi" is still answered.
"""

from __future__ import annotations

import re

_SOCIAL = (
    r"(hi|hiya|hello|hey|hey there|hi there|hello there|yo|howdy|good (morning|afternoon|evening|day)|morning|afternoon|"
    r"thanks?|thank you|thanks a lot|thank you very much|many thanks|cheers|ta|thx|ty|great|brilliant|perfect|cool|nice|"
    r"lovely|excellent|awesome|ok|okay|ok thanks|okay thanks|k|got it|understood|noted|sure|fine|bye|goodbye|see you|"
    r"see ya|cya|have a (good|nice) (day|one)|you there|are you there|test|testing|ping)"
)
_CHATTER = re.compile(rf"^(({_SOCIAL})( (bot|policy bot|mate|again|so much))?)+$|^[\d.,%£$#-]+$")


def is_chatter(text: str) -> bool:
    """True for a greeting, thanks or a bare number, which deserve a pointer to `help`, not a refusal."""
    plain = re.sub(r"<at>.*?</at>", " ", text.lower())
    plain = re.sub(r"[^\w\s.,%£$#-]", " ", plain).replace(",", " ").strip(" .")
    plain = " ".join(plain.split())
    if not plain:
        return True
    if re.fullmatch(r"[\d.,%£$# -]+", plain):
        return True
    return bool(_CHATTER.match(plain))
