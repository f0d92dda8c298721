"""Reading real-world policy documents: Markdown, messy plain text and Word."""

from __future__ import annotations

from pathlib import Path

import docx

from domain import EXAMPLE_POLICY_PATH
from domain.policy_parse import parse_policy
from domain.policy_search import PolicyIndex
from domain.policy_text import Placeholders, fill_placeholders, policy_source_text

FIXTURES = Path(__file__).parent / "fixtures"
VALUES = Placeholders("Testshire Council", "the AI Board", "ai-board@testshire.gov.uk")


def parse(path: Path):
    return parse_policy(policy_source_text(path), VALUES)


def test_the_example_policy_has_all_seventeen_sections_with_placeholders_filled():
    document = parse(EXAMPLE_POLICY_PATH)
    top = [s.number for s in document.sections if "." not in s.number]
    assert top == [str(n) for n in range(1, 18)]
    assert document.section("7.2").title == "Prohibited uses"
    text = "\n".join(s.full_text() for s in document.sections)
    assert "[" not in text and "insert" not in text.lower()
    assert "Testshire Council" in text and "the AI Board" in text and "ai-board@testshire.gov.uk" in text
    assert "as appropriate" not in text and "Related resource" not in text


def test_roles_are_split_into_passages_that_keep_the_role_name():
    roles = parse(EXAMPLE_POLICY_PATH).section("5")
    dpo = [b for b in roles.blocks if b.subtitle == "Data Protection Officer (DPO)"]
    assert len(dpo) == 2 and all(b.kind == "bullet" for b in dpo)
    # The role's own passage is quoted (the DPIA clause that names the DPO may rank first).
    hits = PolicyIndex(parse(EXAMPLE_POLICY_PATH)).search("What does the Data Protection Officer do?").hits[:2]
    assert any(h.section == "5" and h.text.startswith("Data Protection Officer (DPO): ") for h in hits)


def test_placeholders_and_editorial_notes():
    assert fill_placeholders("Owned by [Insert GenAI authority within your organisation].", VALUES) == "Owned by the AI Board."
    assert fill_placeholders("Staff of [insert your organisation\u2019s name] must", VALUES) == "Staff of Testshire Council must"
    assert fill_placeholders("Email [insert contact email address].", VALUES) == "Email ai-board@testshire.gov.uk."
    assert fill_placeholders("Keep records. [Add, remove or amend as appropriate].", VALUES) == "Keep records."
    assert fill_placeholders("Review yearly. [Optional: name the date here.]", VALUES) == "Review yearly."
    assert fill_placeholders("See the register [RG-4] for details", VALUES) == "See the register [RG-4] for details"


def test_a_messy_plain_text_export():
    document = parse(FIXTURES / "messy-policy.txt")
    numbers = [s.number for s in document.sections]
    assert numbers == ["1", "2", "3", "4", "5", "6", "6.1", "6.2", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16"]
    assert document.section("15").title == "Policy review"  # the heading that lost its number
    assert document.section("2").title == "Who this policy applies to"  # numbered without a trailing dot
    prohibited = document.section("6.2").blocks
    assert prohibited[0].text == "Staff must not:" and prohibited[1].kind == "bullet"  # 'o' bullets
    assert prohibited[1].lead_in == "Staff must not:"
    roles = {b.subtitle for b in document.section("5").blocks}
    assert roles == {"AI Governance Group", "Data Protection Officer", "Heads of Service", "Employees"}
    everything = "\n".join(s.full_text() for s in document.sections)
    assert "\u00a0" not in everything and "\u201c" not in everything and "\u2013" not in everything
    assert "Contents" not in everything and "........" not in everything and "Related resource" not in everything
    assert "72 hours" in everything and "the AI Board" in everything


def test_a_word_document_with_heading_styles_list_paragraphs_and_a_roles_table(tmp_path):
    path = tmp_path / "policy.docx"
    document = docx.Document()
    document.add_heading("Use of AI Policy", level=0)
    document.add_heading("Purpose", level=1)  # Word's automatic numbering is not in the text
    document.add_paragraph("This policy explains how [insert your organisation\u2019s name] uses generative AI safely.")
    document.add_heading("Acceptable use", level=1)
    document.add_heading("Things you must not do", level=2)
    document.add_paragraph("Staff must not:")
    for item in ("put personal data into public AI tools", "let AI make decisions about people on its own"):
        document.add_paragraph(item, style="List Bullet")
    document.add_heading("Roles", level=1)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Data Protection Officer", "Advises on DPIAs for AI tools"
    table.cell(1, 0).text, table.cell(1, 1).text = "Managers", "Check their team uses approved tools only"
    document.save(path)

    parsed = parse(path)
    assert [(s.number, s.title) for s in parsed.sections] == [
        ("1", "Purpose"), ("2", "Acceptable use"), ("2.1", "Things you must not do"), ("3", "Roles"),
    ]
    assert "Testshire Council" in parsed.section("1").full_text()
    bullets = [b for b in parsed.section("2.1").blocks if b.kind == "bullet"]
    assert len(bullets) == 2 and bullets[0].lead_in == "Staff must not:"
    assert {b.subtitle for b in parsed.section("3").blocks} == {"Data Protection Officer", "Managers"}
    hit = PolicyIndex(parsed).search("Can I put personal data into ChatGPT?").hits[0]
    assert hit.section == "2.1" and "personal data" in hit.text
