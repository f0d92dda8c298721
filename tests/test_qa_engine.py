"""The hybrid engine: offline model loading, distinct passages, taught phrasings, greetings."""

from __future__ import annotations

import socket

import pytest

from domain.chatter import is_chatter
from domain.policy_parse import parse_policy
from domain.policy_search import PolicyIndex, shared_embedder
from domain.policy_text import Placeholders
from domain.semantic import StaticEmbedder

VALUES = Placeholders("Testshire Council", "the AI Board", "ai-board@testshire.gov.uk")
SMALL = """# Using AI at work

Staff may use approved AI tools to draft letters and summarise long reports, provided the tool appears on the
register of approved tools that the AI Board keeps and the conditions written there for that tool are followed
to the letter, including any limits it sets on the kinds of document, the teams and the data it may be used with.

Every output must be checked by a person before it is sent to a resident, because these tools can state things
that are wrong with great confidence, leave out what matters or repeat the unfair patterns of their sources, and
the person who sends it answers for every word of it as if they had written the whole of it themselves.

Personal data must never be typed into a public chatbot: names, addresses, case notes, dates of birth and any
other detail that could identify a resident or a colleague stay inside the systems built to protect them, and
this holds for free tools, trials and personal accounts just as it does for anything the council pays for.

Incidents go to the AI Board and to IT security the same day, whether the cause was a tool, a person or a
supplier, and whether or not any harm is yet known to have followed from what happened; nobody is blamed for
reporting early, and the Board would rather hear about ten false alarms than miss one real leak of data.
"""


def test_the_semantic_model_loads_and_embeds_without_opening_a_socket(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network use is not allowed in this test")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    embedder = StaticEmbedder()
    vectors = embedder.embed(["can i paste notes into chatgpt", "Personal data must never be typed into a chatbot"])
    assert vectors.shape == (2, 256) and float(vectors[0] @ vectors[1]) > 0.1
    index = PolicyIndex(parse_policy(SMALL, VALUES), embedder=embedder)
    assert index.search("who do I tell about an incident?").hits
    assert attempts == []
    assert embedder.nbytes < 150 * 1024 * 1024


def test_three_distinct_passages_even_from_a_single_section():
    index = PolicyIndex(parse_policy(SMALL, VALUES))
    hits = index.search("what must staff check before sending AI output to residents").hits
    assert len(hits) == 3 and len({h.text for h in hits}) == 3
    assert hits[0].text.startswith("Every output must be checked")


def test_a_taught_phrasing_finds_its_passage():
    document = parse_policy(SMALL, VALUES)
    plain = PolicyIndex(document)
    target = next(u.display for u in plain.units if u.display.startswith("Incidents go"))
    question = "copilot leaked a spreadsheet, what now"
    taught = PolicyIndex(document, alternates={target: [question]})
    assert taught.search(question).hits[0].text == target


@pytest.mark.parametrize("text", ["thanks!", "Thank you very much", "hi there", "good morning", "42", "3.1", "cheers"])
def test_greetings_thanks_and_numbers_are_chatter(text):
    assert is_chatter(text)
    assert not PolicyIndex(parse_policy(SMALL, VALUES)).search(text).answered


@pytest.mark.parametrize("text", ["hi, can I use ChatGPT?", "what is section 4 about", "Is Copilot approved?"])
def test_questions_are_not_chatter(text):
    assert not is_chatter(text)


def test_the_model_is_loaded_once_per_process():
    assert shared_embedder() is shared_embedder()
