"""Reading the CSV files `policy-bot qa` takes: pairings to import, and the council's question bank.

A spreadsheet row is named by its number as a spreadsheet shows it (the header is row 1). A file-level
problem stops the command with one line; a row-level one is reported with its row, and nothing is taken.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from cli.common import fail, from_spreadsheet_cell
from domain.pairings import Teaching

if TYPE_CHECKING:
    from domain.question_bank import BankQuestion


def read_rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Each non-blank row as {column: value}, with lower-case column names, numbered as a spreadsheet shows it."""
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except UnicodeDecodeError:
        fail(f"{path}: not UTF-8 text; in Excel, save it as \u201cCSV UTF-8\u201d")
    except OSError as exc:
        fail(f"{path}: cannot read it ({exc.strerror or exc})")
    reader = csv.reader(text.splitlines())
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in required if name not in header]
    if missing:
        fail(f"{path.name}: the first row must name the columns; {', '.join(missing)} missing "
             f"(found: {', '.join(h for h in header if h) or 'nothing'})")
    rows = []
    for number, cells in enumerate(reader, start=2):
        if any(cell.strip() for cell in cells):
            rows.append((number, {name: from_spreadsheet_cell(cells[i].strip()) if i < len(cells) else ""
                                  for i, name in enumerate(header)}))
    if not rows:
        fail(f"{path.name}: no rows under the header")
    return rows


def read_teachings(path: Path) -> tuple[list[tuple[int, Teaching]], list[tuple[int, str]]]:
    """The pairings a file asks for, and the rows that cannot be read as one."""
    teachings, problems = [], []
    for number, row in read_rows(path, ("question", "section")):
        passage = row.get("passage", "")
        if not row["question"]:
            problems.append((number, "the question is empty"))
        elif not row["section"]:
            problems.append((number, "no section: give the section number that answers the question, e.g. 7.2"))
        elif passage and not (passage.isdigit() and int(passage) >= 1):
            problems.append((number, f"passage must be a number from 1 (or empty for the closest), not \u201c{passage}\u201d"))
        else:
            teachings.append((number, Teaching(row["question"], row["section"], int(passage) if passage else None)))
    return teachings, problems


def read_bank(path: Path) -> tuple[list[BankQuestion], list[tuple[int, str]]]:
    """The bank's questions (columns question, and expected or section), and the rows that cannot be read."""
    from domain.question_bank import BankQuestion, BankRowRefused, expected_sections

    rows = read_rows(path, ("question",))
    column = next((name for name in ("expected", "section", "sections") if name in rows[0][1]), None)
    if column is None:
        fail(f"{path.name}: needs a column named expected (or section) with the section(s) that answer each question")
    items, problems = [], []
    for number, row in rows:
        if not row["question"]:
            problems.append((number, "the question is empty"))
            continue
        try:
            items.append(BankQuestion(number, " ".join(row["question"].split()), expected_sections(row[column])))
        except BankRowRefused as exc:
            problems.append((number, str(exc)))
    return items, problems
