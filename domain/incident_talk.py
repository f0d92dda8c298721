"""Whether a message tells of something that has happened, which the policy says to report (section 13).

"I pasted a resident's address into ChatGPT" is not really a question about the policy: it tells of an
incident, and the policy asks for incidents to be reported at once to the governance authority and IT
security. The bot still quotes what the policy says, but it also offers the report form, filled in with
what the person said, so they need not type it twice.

Only something done or seen counts: "I pasted…", "a colleague uploaded…", "Copilot showed me…",
"…by mistake". Asking whether one may do it ("can I paste…", "what if I upload…", "should I have
shared…") does not. A false alarm costs one extra button that begins "If this has happened", so the
test leans towards offering it.
"""

from __future__ import annotations

import re

_WHO = (r"i|we|someone|somebody|a colleague|my colleague|a coworker|my coworker|a co-worker|my co-worker|my manager|"
        r"my boss|a member of staff|a staff member|my team|someone in my team|one of my team|our team|a contractor")
_HOW = (r"(?:(?:have|has|had|been|was|were|is|are|keeps|just|already|accidentally|mistakenly|inadvertently|may have|"
        r"might have|probably|then) )*")
_MOVED = (r"pasted|put|entered|uploaded|typed|shared|copied|sent|leaked|gave|fed|inputted|input|dropped|attached|posted|"
          r"emailed|submitted|exposed|disclosed|forwarded|included|added|recorded|transcribed|"
          r"pasting|putting|entering|uploading|typing|sharing|copying|sending|feeding|inputting|posting|emailing")
_DONE = re.compile(rf"\b(?:{_WHO}) {_HOW}(?:{_MOVED})\b")
# A tool that moved something where it should not go: "Copilot put a resident's address into a summary sent to the
# whole team". Fewer verbs: a tool that "gave" or "typed" something is answering, not leaking.
_TOOLS = r"it|the ai|the tool|the bot|the chatbot|the assistant|ai|copilot|chatgpt|gemini|claude|the app"
_TOOL_DONE = re.compile(rf"\b(?:{_TOOLS}) {_HOW}(?:put|added|included|shared|sent|leaked|exposed|disclosed|posted|"
                        rf"emailed|forwarded|published|uploaded)\b")
# A tool doing something it should not: "Copilot showed me another team's files", "it made up a case".
_TOOL_DID = re.compile(r"\b(?:showed me|has shown me|let me see|gave me access|revealed|exposed|leaked|made up|invented|"
                       r"fabricated|hallucinated)\b")
_MISHAP = re.compile(r"\b(?:by mistake|by accident|accidentally|mistakenly|inadvertently|hacked|compromised|"
                     r"data breach has|there has been a breach|theres been a breach|(?:i|we) (?:have |may have |might have )?breached)\b")
# Words that make what follows a question or a supposition rather than something that happened.
_SUPPOSING = {"can", "could", "may", "might", "should", "shall", "will", "would", "must", "do", "does", "if", "whether",
              "when", "to", "cant", "cannot", "shouldnt", "wont", "wouldnt", "allowed", "ok", "okay", "fine", "before",
              "what", "everything", "anything", "stuff"}


def _plain(text: str) -> str:
    text = re.sub(r"<at>.*?</at>", " ", text.lower()).replace("\u2019", "'")
    text = re.sub(r"\b(i|we|they)'?ve\b", r"\1 have", text).replace("'", "")
    return " ".join(re.sub(r"[^\w\s-]", " ", text).split())


def _supposed(plain: str, start: int) -> bool:
    """Whether one of the few words before `start` makes it a supposition ("what if I pasted", "can I put")."""
    before = plain[:start].split()[-3:]
    return any(word in _SUPPOSING for word in before)


def tells_of_an_incident(text: str) -> bool:
    """True when the message says that something happened which may be an AI incident or breach."""
    plain = _plain(text)
    return any(not _supposed(plain, match.start())
               for pattern in (_DONE, _TOOL_DONE, _TOOL_DID, _MISHAP) for match in pattern.finditer(plain))
