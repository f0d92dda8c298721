"""Score policy Q&A on real documents: passage-level top-1 / top-3, refusals, leave-one-document-out.

    python scripts/evaluate_qa.py                       # leave-one-document-out over tests/eval/corpus
    python scripts/evaluate_qa.py --first-run SLUG      # the engine as it is, untuned, on one document
    python scripts/evaluate_qa.py --engine-root DIR     # another checkout's engine (e.g. main's), untuned
    python scripts/evaluate_qa.py --policy P --questions Q   # one of our own example sets (regression)

A hit is a shown passage whose first 700 characters contain one of the question's answering spans
(compared with whitespace, case, quotes and dashes normalised). Out-of-scope questions must be refused.
In leave-one-out mode every tunable setting of the engine is chosen on the other documents only and the
figures are measured on the document left out.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "eval" / "corpus"
PLACEHOLDERS = ("Example Borough Council", "the GenAI Governance Board", "genai@example.gov.uk")
SHOWN_CHARS = 700

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
                         "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u00ad": ""})


@lru_cache(maxsize=65536)  # leave-one-out checks the same passages against the same answers many thousand times
def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.translate(_QUOTES)).lower()
    text = text.replace("\u2026", "...")
    return " ".join(text.split())


@dataclass
class Document:
    slug: str
    path: Path
    in_scope: list[dict]  # {"question", "answers"}
    out_of_scope: list[str]


def frozen_hash_ok(folder: Path) -> bool:
    frozen = (folder / "FROZEN").read_text(encoding="utf-8")
    digest = hashlib.sha256((folder / "questions.yaml").read_bytes()).hexdigest()
    return digest in frozen


def load_document(folder: Path) -> Document:
    if not frozen_hash_ok(folder):
        raise SystemExit(f"{folder.name}: questions.yaml does not match the hash in FROZEN")
    path = next(p for p in sorted(folder.iterdir()) if p.stem == "document")
    data = yaml.safe_load((folder / "questions.yaml").read_text(encoding="utf-8"))
    if isinstance(data, list):  # one list, out-of-scope items marked
        items = data
    else:
        items = [*(data.get("in_scope") or []), *(data.get("out_of_scope") or []), *(data.get("questions") or [])]
    in_scope = [{"question": i["question"], "answers": i["answers"]} for i in items if not i.get("out_of_scope")]
    out_of_scope = [i["question"] for i in items if i.get("out_of_scope")]
    return Document(folder.name, path, in_scope, out_of_scope)


def load_corpus(root: Path = CORPUS) -> list[Document]:
    return [load_document(f) for f in sorted(root.iterdir()) if (f / "FROZEN").is_file()]


def is_hit(text: str, answers: list[str]) -> bool:
    shown = normalise(text[:SHOWN_CHARS])
    return any(normalise(a) in shown for a in answers)


def score(results_in: list, results_out: list, document: Document, show_misses: bool = False) -> dict:
    """results_*: per question, (answered, [shown passage texts])."""
    top1 = top3 = refused_in = 0
    for item, (answered, texts) in zip(document.in_scope, results_in):
        first = bool(texts) and is_hit(texts[0], item["answers"])
        any3 = any(is_hit(t, item["answers"]) for t in texts[:3])
        top1 += answered and first
        top3 += answered and any3
        refused_in += not answered
        if show_misses and (not answered or not first):
            print(f"  MISS{' (refused)' if not answered else ''} {item['question']!r}")
            for t in texts[:3]:
                print(f"       {'*' if is_hit(t, item['answers']) else ' '} {t[:120]!r}")
    answered_out = 0
    for question, (answered, texts) in zip(document.out_of_scope, results_out):
        answered_out += answered
        if show_misses and answered:
            print(f"  ANSWERED OUT-OF-SCOPE {question!r} -> {texts[0][:100]!r}")
    n_in, n_out = len(document.in_scope), len(document.out_of_scope)
    return {
        "in_scope": n_in, "out_of_scope": n_out,
        "top1": round(top1 / n_in, 3) if n_in else None,
        "top3": round(top3 / n_in, 3) if n_in else None,
        "in_scope_refused": refused_in,
        "out_of_scope_answered": answered_out,
    }


def run_untuned(document: Document, show_misses: bool = False) -> dict:
    """The engine importable from sys.path, with its own defaults (first runs, and main's engine)."""
    from domain.policy_parse import parse_policy
    from domain.policy_search import PolicyIndex
    from domain.policy_text import Placeholders, PolicyFileError, policy_source_text

    try:
        index = PolicyIndex(parse_policy(policy_source_text(document.path), Placeholders(*PLACEHOLDERS)))
    except PolicyFileError as exc:
        figures = score([(False, [])] * len(document.in_scope), [(False, [])] * len(document.out_of_scope), document)
        return {**figures, "error": str(exc)}

    def ask(question: str):
        result = index.search(question)
        return bool(result.answered), [h.text for h in result.hits[:3]]

    return score([ask(i["question"]) for i in document.in_scope], [ask(q) for q in document.out_of_scope],
                 document, show_misses)


def evaluate(policy: Path, questions: Path, show_misses: bool = False) -> dict:
    """One of our own example sets (section-level `expect` + optional `passage` words): a regression guard."""
    from domain.policy_parse import parse_policy
    from domain.policy_search import PolicyIndex
    from domain.policy_text import Placeholders, policy_source_text

    index = PolicyIndex(parse_policy(policy_source_text(policy), Placeholders(*PLACEHOLDERS)))
    data = yaml.safe_load(questions.read_text())

    def section_matches(found: str, expected: list[str]) -> bool:
        return any(found == e or found.startswith(e + ".") for e in expected)

    top1 = top3 = passage1 = refused_in = 0
    for item in data["in_scope"]:
        result = index.search(item["q"])
        sections = [h.section for h in result.hits]
        first = bool(sections) and section_matches(sections[0], item["expect"])
        any3 = any(section_matches(s, item["expect"]) for s in sections[:3])
        words = item.get("passage")
        passage_ok = first and (not words or words.lower() in result.hits[0].text.lower())
        top1 += first and result.answered
        top3 += any3 and result.answered
        passage1 += passage_ok and result.answered
        refused_in += not result.answered
        if show_misses and (not first or not result.answered or not passage_ok):
            print(f"MISS {item['q']!r} expect {item['expect']} got {sections} answered={result.answered}")
    refused_out = sum(not index.search(q).answered for q in data["out_of_scope"])
    n_in, n_out = len(data["in_scope"]), len(data["out_of_scope"])
    return {
        "in_scope": n_in, "out_of_scope": n_out,
        "top1": round(top1 / n_in, 3), "top3": round(top3 / n_in, 3), "passage_top1": round(passage1 / n_in, 3),
        "in_scope_refused": refused_in, "out_of_scope_refused": f"{refused_out}/{n_out}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--first-run", metavar="SLUG", help="score the engine as it is on one corpus document")
    parser.add_argument("--engine-root", type=Path, help="import the engine from this checkout instead")
    parser.add_argument("--only", metavar="SLUG", action="append", help="limit to these documents")
    parser.add_argument("--policy", type=Path, help="an example policy (with --questions): regression mode")
    parser.add_argument("--questions", type=Path)
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write-settings", action="store_true",
                        help="choose settings on every corpus document and store them as the engine's defaults")
    args = parser.parse_args()
    sys.path.insert(0, str(args.engine_root.resolve() if args.engine_root else ROOT))

    if args.policy:
        for key, value in evaluate(args.policy, args.questions, args.show_misses).items():
            print(f"{key}: {value}")
        return
    documents = load_corpus(args.corpus)
    if args.first_run or args.engine_root:
        wanted = [args.first_run] if args.first_run else args.only
        chosen = [d for d in documents if not wanted or d.slug in wanted]
        out = {}
        for document in chosen:
            if args.show_misses:
                print(document.slug)
            out[document.slug] = run_untuned(document, args.show_misses)
        print(json.dumps(out, indent=2))
        return
    sys.path.insert(0, str(ROOT / "scripts"))
    from loo import leave_one_out, settings_for_all  # noqa: E402  (scripts/loo.py)

    if args.write_settings:
        from domain.policy_search import SETTINGS_PATH

        chosen = settings_for_all(documents)
        SETTINGS_PATH.write_text(json.dumps({"chosen_on": [d.slug for d in documents], "settings": chosen.__dict__},
                                            indent=2) + "\n", encoding="utf-8")
        print(f"wrote {SETTINGS_PATH.relative_to(ROOT)}: {chosen}")
        return

    report = leave_one_out(documents, show_misses=args.show_misses, only=args.only)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for slug, figures in report.items():
        shown = {k: v for k, v in figures.items() if k != "settings"}
        print(f"{slug}: {shown}")


if __name__ == "__main__":
    main()
