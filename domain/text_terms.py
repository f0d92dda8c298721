"""Words and stems, as every ranker and the vocabulary see them."""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been before being below
    between both but by can can't could couldn't did didn't do does doesn't doing don't down during each few for from
    further had hadn't has hasn't have haven't having he her here hers herself him himself his how i i'd i'll i'm i've
    if in into is isn't it it's its itself just let's me more most mustn't my myself no nor not of off on once only or
    other ought our ours ourselves out over own same shan't she should shouldn't so some such than that that's the their
    theirs them themselves then there there's these they this those through to too under until up very was wasn't we
    were weren't what what's when where which while who whom why will with won't would wouldn't you your yours yourself
    yourselves also get got getting want wants wanted need needs know like please thanks thank hi hello ok okay really
    just something anything someone thing things way able going go goes went make made use used using uses us
    actually maybe still even much many lot lots etc e.g i.e tell told says said show showed shown see saw look
    happen happens happened put take took give gave new one two yes via per within without whether
    looked looking looks gets gotten needed needing wanting wanted first again anyway anyways supposed suppose basically
    exactly literally stuff bit bits quite rather kind kinds sort sorts lot loads mine ours theirs someone's there's
    here's how's who's let lets letting done doing tried trying trying try bit okay ok alright right sure fine
    we're you're they're we've you've they've we'll you'll they'll it'll who're what're there're how'd where's when's
    why's im ive isnt dont cant wont doesnt didnt whats thats theres youre youve theyre weve arent shouldnt
    wouldnt couldnt hows whos wasnt werent hasnt havent hadnt mustnt u ur pls plz thx gonna wanna gotta""".split()
)
# The last lines: contractions typed without their apostrophe ("dont", "im", "whats") and chat shorthand. Kept as
# words, a document never uses them, so they only lowered the lexical score (a question word the document lacks
# counts against it) and pushed answerable questions under the refusal threshold.
_stemmer = snowballstemmer.stemmer("english")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word.removesuffix("'s"))


# Words that frame a request rather than name what it is about: "am I allowed to", "is it permitted",
# "what's the rule on", "what does it say about". General English, not any policy's wording; a question's
# framing words can be weighed down in the lexical score (RankerSettings.frame_weight, chosen by leave-one-out).
QUESTION_FRAME = frozenset(_stem(w) for w in "allow allowed allows permit permitted rule rules say".split())


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower().replace("\u2019", "'").replace("-", " ")) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def stems(text: str) -> list[str]:
    return [_stem(w) for w in words(text)]
