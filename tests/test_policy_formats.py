"""PDF, HTML and Markdown layouts read from real corpus files, and plain errors for unreadable ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.policy_parse import parse_policy
from domain.policy_search import PolicyIndex
from domain.policy_text import Placeholders, PolicyFileError, policy_source_text, read_policy_lines

CORPUS = Path(__file__).parent / "eval" / "corpus"
VALUES = Placeholders("Testshire Council", "the AI Board", "ai-board@testshire.gov.uk")


def parsed(path: Path):
    return parse_policy(policy_source_text(path), VALUES)


def test_pdf_headings_come_from_font_size_and_wrapped_lines_are_rejoined():
    path = CORPUS / "au-university-sydney-research" / "document.pdf"
    lines = read_policy_lines(path)
    headings = {l.text: l.heading_level for l in lines if l.heading_level}
    assert headings["Generative-AI: guidelines for researchers"] == 1  # a title wrapped over two lines
    assert headings["What is Generative-AI?"] == 2
    assert headings["Use the University's Protected MS Copilot service".join(["1. ", ""])] == 3
    texts = [l.text for l in lines]
    assert "• Ensure that the only content you are uploading is material that can be shared safely with anyone." in texts
    document = parsed(path)
    assert document.title == "Generative-AI: guidelines for researchers"
    safely = next(s for s in document.sections if s.title == "How can I use Generative-AI safely?")
    children = [s for s in document.sections if s.number.startswith(safely.number + ".")]
    assert len(children) == 2 and all(s.level == safely.level + 1 for s in children)


def test_a_pdf_sentence_running_over_a_page_break_stays_one_paragraph():
    lines = read_policy_lines(CORPUS / "au-university-sydney-research" / "document.pdf")
    assert not any(l.text.startswith("cannot delegate this responsibility") for l in lines)
    assert any("misrepresenting their findings, and they cannot delegate this responsibility" in l.text for l in lines)


def test_html_faq_questions_keep_their_answers():
    path = CORPUS / "uk-university-imperial-genai-faq" / "document.html"
    document = parsed(path)
    questions = [s for s in document.sections if s.title.endswith("?")]
    assert len(questions) >= 8
    assert all(s.blocks for s in questions)  # each question heads its answer, not a passage of its own
    text = policy_source_text(path)
    assert "<" not in text.split("\n", 3)[0] and "cookie" not in text.lower()[:2000]


def test_every_corpus_document_is_read_into_several_sections_and_searchable():
    for folder in sorted(p for p in CORPUS.iterdir() if (p / "FROZEN").is_file()):
        path = next(p for p in folder.iterdir() if p.stem == "document")
        index = PolicyIndex(parsed(path))
        assert len(index.document.sections) >= 3, folder.name
        assert len(index.units) >= 10, folder.name
        assert all(len(u.display) <= 500 for u in index.units), folder.name


def test_markdown_tables_become_one_line_per_row(tmp_path):
    policy = tmp_path / "p.md"
    policy.write_text("# Tools\n\nWhat is allowed, by tool, is below in full detail for all staff.\n\n"
                      "| Tool | Status | Notes |\n|---|---|---|\n| Copilot Chat | Approved | Work account only |\n"
                      "| ChatGPT | Not approved | Personal accounts are banned |\n", encoding="utf-8")
    texts = [l.text for l in read_policy_lines(policy)]
    assert "Copilot Chat - Status: Approved; Notes: Work account only" in texts
    assert not any("|" in t for t in texts)


def test_a_label_line_does_not_title_what_follows():
    document = parse_policy("# Using AI\n\nUpdated: 3 May 2024\n\nStaff must check every output before it is sent out.\n", VALUES)
    blocks = [b for s in document.sections for b in s.blocks]
    assert all(b.subtitle is None for b in blocks)


def test_a_lead_in_is_quoted_with_its_short_items():
    text = ("# Rules\n\nStaff must not use AI tools to:\n\n- make decisions about people\n- process health records\n"
            "- write code for payments\n\nOther text follows here and is long enough to be its own paragraph.\n")
    index = PolicyIndex(parse_policy(text, VALUES))
    hit = index.search("can the AI make decisions about people").hits[0]
    assert hit.text.startswith("Staff must not use AI tools to: • make decisions about people")
    assert "process health records" in hit.text


@pytest.mark.parametrize("content", [b"", b"   \n\n  ", b"%PDF-1.4 not really a pdf"])
def test_empty_or_unreadable_documents_get_a_plain_message(tmp_path, content):
    for suffix in (".txt", ".pdf", ".html", ".md"):
        path = tmp_path / f"policy{suffix}"
        path.write_bytes(content)
        with pytest.raises(PolicyFileError) as error:
            read_policy_lines(path)
        assert path.name in str(error.value)
        assert "Traceback" not in str(error.value)


def test_a_pdf_with_no_text_layer_is_refused_in_plain_words(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    path = tmp_path / "scanned.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(PolicyFileError, match="no readable text"):
        read_policy_lines(path)


def test_bold_numbered_lines_under_real_headings_are_subsections_not_list_items():
    text = ("# Training\n\n## Policy\n\n### Requirements\n\n**1. Approved tools**\n- Only approved tools may be used\n\n"
            "**2. Accounts**\n- Use your work account\n\n## Prompting\n\nWrite clear prompts with enough context.\n")
    document = parse_policy(text, VALUES)
    titles = {s.number: s.title for s in document.sections}
    assert titles["1.1.1"] == "Approved tools" and titles["1.1.2"] == "Accounts" and titles["2"] == "Prompting"
    assert [b.text for b in document.section("1.1.2").blocks] == ["Use your work account"]


def test_a_nested_list_is_led_in_by_the_item_it_hangs_from():
    text = ("# Data\n\n- All data is council property\n- Never upload these without approval:\n"
            "  - Payroll information\n  - Medical information\n- Report any leak at once\n")
    blocks = parse_policy(text, VALUES).sections[0].blocks
    leads = {b.text: b.lead_in for b in blocks}
    assert leads["Payroll information"] == leads["Medical information"] == "Never upload these without approval:"
    assert leads["Report any leak at once"] is None


def test_a_table_row_label_ends_with_its_row(tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<main><h1>AI FAQ</h1><h2>Which tool can analyse images?</h2><table><tr><td>ChatGPT</td><td>No</td></tr>"
                    "<tr><td>Gemini</td><td>Yes</td></tr></table><p>Students must not upload confidential data "
                    "to any of these tools.</p></main>", encoding="utf-8")
    blocks = parsed(page).sections[0].blocks
    assert [b.subtitle for b in blocks] == ["ChatGPT", "Gemini", None]


def test_a_markdown_rule_is_not_a_passage():
    document = parse_policy("# Use\n\nStaff must check every output before sending it.\n\n---\n\n## Next\n\nMore text.\n", VALUES)
    assert all(b.text != "---" for s in document.sections for b in s.blocks)
