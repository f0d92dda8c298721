"""Learning benchmark: does teaching the bot one wording of a need help the other wordings of it?

    python scripts/bench_learning.py [--json]

On each corpus document in tests/eval/corpus (frozen questions, written before the engine saw the
document; the three held-back documents are not among them and are never used), the in-scope
questions are grouped by the passage they target: the passage, as the bot shows it, that holds one of
the question's verbatim answer spans (the first answer some passage holds). Questions that share an
answering passage are paraphrases of the same need. Taken in the frozen file's order, the first question of each group that the untaught
engine misses at top-1 is taught (paired with that passage, as `policy-bot qa teach` would), and the
later questions of the group are measured: their top-1 with every such pairing taught against the
untaught engine's. Questions in groups nothing was taught for are measured too (they must not drop),
and so are the out-of-scope questions (they must not start being answered).

Every pairing of the document is taught at once before anything is measured: a stricter test than a
stream, where a later question meets only the pairings taught before it.

A hit is as in scripts/evaluate_qa.py: the first shown passage contains an answering span.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from evaluate_qa import PLACEHOLDERS, SHOWN_CHARS, Document, is_hit, load_corpus, normalise  # noqa: E402

from domain.pairings import section_key, text_hash  # noqa: E402
from domain.policy_parse import PolicyDocument, parse_policy  # noqa: E402
from domain.policy_search import PolicyIndex  # noqa: E402
from domain.policy_text import Placeholders, policy_source_text  # noqa: E402
from domain.records import PairingRecord  # noqa: E402
from domain.redact import redact  # noqa: E402

RISE_NEEDED = 0.15


def target_passage(index: PolicyIndex, answers: list[str]) -> tuple[int, int, int] | None:
    """(passage shown, section, block) for the first answer some shown passage holds: the passage a hit
    shows, and the paragraph or list item in it that holds the answer (which a pairing names)."""
    for answer in answers:
        wanted = normalise(answer)
        for position, unit in enumerate(index.units):
            if wanted in normalise(unit.display[:SHOWN_CHARS]):
                section = index.document.sections.index(unit.section)
                blocks = [b for b, block in enumerate(unit.section.blocks) if wanted in normalise(block.text)]
                return position, section, next((b for b in blocks if b >= unit.index), unit.index)
    return None


def top1(index: PolicyIndex, item: dict) -> bool:
    result = index.search(item["question"])
    return bool(result.answered and result.hits) and is_hit(result.hits[0].text, item["answers"])


def pairing(document: PolicyDocument, place: tuple[int, int], question: str, number: int) -> PairingRecord:
    section = document.sections[place[0]]
    block = section.blocks[place[1]]
    return PairingRecord(id=number, policy_version_id=1, question=redact(question).text, redacted=False,
                         section=section_key(section), passage_index=place[1] + 1, passage_hash=text_hash(block.text),
                         status="active", source="teach", created_by="bench", created_at=datetime.now(timezone.utc))


@dataclass
class Figures:
    slug: str
    groups: int = 0  # groups of two or more questions with one passage
    taught: int = 0
    later: list[tuple[bool, bool]] = field(default_factory=list)  # (untaught top-1, taught top-1)
    untaught: list[tuple[bool, bool]] = field(default_factory=list)
    again: list[tuple[bool, bool]] = field(default_factory=list)  # the taught questions themselves, asked again
    out_of_scope_answered: tuple[int, int] = (0, 0)
    out_of_scope: int = 0


def bench_document(corpus_document: Document) -> Figures:
    document = parse_policy(policy_source_text(corpus_document.path), Placeholders(*PLACEHOLDERS))
    plain = PolicyIndex(document)
    groups: dict[int, list[dict]] = {}
    places: dict[int, tuple[int, int]] = {}
    ungrouped = []
    for item in corpus_document.in_scope:
        target = target_passage(plain, item["answers"])
        if target is None:
            ungrouped.append(item)
            continue
        groups.setdefault(target[0], []).append(item)
        places.setdefault(target[0], target[1:])
    figures = Figures(corpus_document.slug)
    pairings, later, again, untaught = [], [], [], list(ungrouped)
    for shown, items in groups.items():
        if len(items) < 2:
            untaught.extend(items)
            continue
        figures.groups += 1
        first_miss = next((n for n, item in enumerate(items) if not top1(plain, item)), None)
        if first_miss is None or first_miss == len(items) - 1:
            untaught.extend(items)  # nothing to teach, or nothing after it to measure
            continue
        pairings.append(pairing(document, places[shown], items[first_miss]["question"], len(pairings) + 1))
        again.append(items[first_miss])
        later.extend(items[first_miss + 1:])
    figures.taught = len(pairings)
    taught = PolicyIndex(document, pairings=pairings)
    figures.later = [(top1(plain, i), top1(taught, i)) for i in later]
    figures.untaught = [(top1(plain, i), top1(taught, i)) for i in untaught]
    figures.again = [(top1(plain, i), top1(taught, i)) for i in again]
    figures.out_of_scope = len(corpus_document.out_of_scope)
    figures.out_of_scope_answered = (sum(plain.search(q).answered for q in corpus_document.out_of_scope),
                                     sum(taught.search(q).answered for q in corpus_document.out_of_scope))
    return figures


def share(pairs: list[tuple[bool, bool]], which: int) -> float:
    return sum(p[which] for p in pairs) / len(pairs) if pairs else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results = [bench_document(d) for d in load_corpus()]
    later = [p for f in results for p in f.later]
    untaught = [p for f in results for p in f.untaught]
    again = [p for f in results for p in f.again]
    summary = {
        "documents": len(results), "groups": sum(f.groups for f in results), "taught": sum(f.taught for f in results),
        "later_questions": len(later), "later_top1_untaught": round(share(later, 0), 3),
        "later_top1_taught": round(share(later, 1), 3), "rise": round(share(later, 1) - share(later, 0), 3),
        "untaught_questions": len(untaught), "untaught_top1_before": round(share(untaught, 0), 3),
        "untaught_top1_after": round(share(untaught, 1), 3),
        "taught_asked_again_top1": [round(share(again, 0), 3), round(share(again, 1), 3)],
        "out_of_scope_answered": [sum(f.out_of_scope_answered[0] for f in results),
                                  sum(f.out_of_scope_answered[1] for f in results), sum(f.out_of_scope for f in results)],
    }
    summary["bar_met"] = summary["rise"] >= RISE_NEEDED and summary["untaught_top1_after"] >= summary["untaught_top1_before"]
    if args.json:
        print(json.dumps({"summary": summary, "documents": [
            {"slug": f.slug, "groups": f.groups, "taught": f.taught, "later": len(f.later),
             "later_top1": [round(share(f.later, 0), 3), round(share(f.later, 1), 3)], "untaught": len(f.untaught),
             "untaught_top1": [round(share(f.untaught, 0), 3), round(share(f.untaught, 1), 3)],
             "out_of_scope_answered": list(f.out_of_scope_answered)} for f in results]}, indent=2))
        return 0 if summary["bar_met"] else 1
    print(f"{'document':42} groups taught later  top-1 before→after   untaught  top-1 before→after  out-of-scope answered")
    for f in results:
        print(f"{f.slug:42} {f.groups:6} {f.taught:6} {len(f.later):5}  {share(f.later, 0):6.2f} → {share(f.later, 1):4.2f}"
              f"   {len(f.untaught):8}  {share(f.untaught, 0):6.2f} → {share(f.untaught, 1):4.2f}"
              f"   {f.out_of_scope_answered[0]} → {f.out_of_scope_answered[1]} of {f.out_of_scope}")
    print(f"\nlater paraphrases: top-1 {summary['later_top1_untaught']:.3f} → {summary['later_top1_taught']:.3f} "
          f"(rise {summary['rise']:+.3f}, needs ≥ {RISE_NEEDED}) over {summary['later_questions']} questions")
    print(f"untaught questions: top-1 {summary['untaught_top1_before']:.3f} → {summary['untaught_top1_after']:.3f} "
          f"over {summary['untaught_questions']} questions")
    print(f"the taught questions, asked again: top-1 {summary['taught_asked_again_top1'][0]:.3f} → "
          f"{summary['taught_asked_again_top1'][1]:.3f} over {len(again)} questions")
    print(f"out-of-scope questions answered: {summary['out_of_scope_answered'][0]} → "
          f"{summary['out_of_scope_answered'][1]} of {summary['out_of_scope_answered'][2]}")
    print("bar met" if summary["bar_met"] else "BAR NOT MET")
    return 0 if summary["bar_met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
