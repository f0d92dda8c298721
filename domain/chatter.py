"""Messages that are not policy questions: greetings, thanks, sign-offs, bare numbers, and questions about the bot.

Greetings and the like get a friendly pointer to `help` rather than "the policy doesn't cover that".
Questions about the bot itself ("are you a real person?", "what can you do?") get what the bot is,
how it works and how to reach a person, which a chatbot owes its users (policy 9.1), not a passage
that happens to share a word. Both tests are on the whole message (once punctuation, emoji and the
bot's name are set aside), so a policy question that merely starts with "hi" or "are you" is still
answered from the policy.
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


_YOU = r"(you|u|this bot|the bot|this assistant|the assistant|this chatbot|this thing|this app)"
_WHAT_A_BOT_IS = (r"(a |an )?(real )?(bot|robot|chat ?bot|ai|a\.i|genai|generative ai|llm|human|human being|person|"
                  r"real person|machine|computer|chatgpt|copilot|gpt)")
_ABOUT_THE_BOT = re.compile(
    rf"^(({_SOCIAL}|so|um|erm|just wondering|quick question) )*("
    rf"(what|who) (are|r) (you|u)|what( is|s| s) this( bot| assistant| chat ?bot| app| thing| chat)?|"
    rf"what( is|s| s) {_YOU}|who( is|s| s) this|"
    rf"(are|r) (you|u) {_WHAT_A_BOT_IS}|is (this|it) {_WHAT_A_BOT_IS}|"
    rf"am i (talking|speaking|chatting) (to|with) {_WHAT_A_BOT_IS}|"
    rf"what (can|do|does|could) {_YOU} do( for me)?|what (are|r) (you|u) for|how (do|does) {_YOU} work|"
    rf"(do|does) {_YOU} use (ai|genai|generative ai|chatgpt|copilot|an llm|a language model)|"
    rf"who (made|built|wrote|created|runs|owns|designed) {_YOU}|"
    rf"(can|could|how (do|can|could)) i (talk|speak|get through) to (a |an )?(human|person|real person|someone|somebody)"
    rf"( instead)?|"
    rf"i want to (talk|speak) to (a |an )?(human|person|real person|someone|somebody)"
    rf")( (exactly|really|then|here|anyway|please|pls|instead))*$"
)


def _plain(text: str) -> str:
    """Lower case, without the bot's @mention, apostrophes, emoji or punctuation other than in numbers."""
    plain = re.sub(r"<at>.*?</at>", " ", text.lower()).replace("\u2019", "'").replace("'", "")
    plain = re.sub(r"[^\w\s.,%£$#-]", " ", plain).replace(",", " ").strip(" .")
    return " ".join(plain.split())


def asks_about_the_bot(text: str) -> bool:
    """True for a question about the bot itself: what it is, whether it is a person or an AI, what it can do,
    who runs it, how to reach a person instead."""
    return bool(_ABOUT_THE_BOT.match(_plain(text).strip(" ?")))


def is_chatter(text: str) -> bool:
    """True for a greeting, thanks or a bare number, which deserve a pointer to `help`, not a refusal."""
    plain = _plain(text)
    if not plain:
        return True
    if re.fullmatch(r"[\d.,%£$# -]+", plain):
        return True
    return bool(_CHATTER.match(plain))
