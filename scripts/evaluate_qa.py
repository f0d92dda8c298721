"""Score policy Q&A: top-1 / top-3 hit rate (section and passage level) and refusals.

    python scripts/evaluate_qa.py [--policy PATH] [--questions tests/eval/questions.yaml] [--show-misses]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain import EXAMPLE_POLICY_PATH  # noqa: E402
from domain.policy_parse import parse_policy  # noqa: E402
from domain.policy_search import PolicyIndex  # noqa: E402
from domain.policy_text import Placeholders, policy_source_text  # noqa: E402


def section_matches(found: str, expected: list[str]) -> bool:
    return any(found == e or found.startswith(e + ".") for e in expected)


def evaluate(policy: Path, questions: Path, show_misses: bool = False) -> dict:
    document = parse_policy(policy_source_text(policy), Placeholders("Example Borough Council", "the GenAI Governance Board", "genai@example.gov.uk"))
    index = PolicyIndex(document)
    data = yaml.safe_load(questions.read_text())
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
            print(f"MISS {item['q']!r} expect {item['expect']} got {sections} answered={result.answered} cov={result.coverage}")
            for hit in result.hits[:3]:
                print(f"     {hit.section} {hit.score} {hit.text[:110]!r}")
    refused_out = 0
    for question in data["out_of_scope"]:
        result = index.search(question)
        refused_out += not result.answered
        if show_misses and result.answered:
            print(f"ANSWERED OUT-OF-SCOPE {question!r} -> {result.hits[0].section} cov={result.coverage} score={result.hits[0].score}")
    n_in, n_out = len(data["in_scope"]), len(data["out_of_scope"])
    return {
        "in_scope": n_in,
        "out_of_scope": n_out,
        "top1": round(top1 / n_in, 3),
        "top3": round(top3 / n_in, 3),
        "passage_top1": round(passage1 / n_in, 3),
        "in_scope_refused": refused_in,
        "out_of_scope_refused": f"{refused_out}/{n_out}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", type=Path, default=EXAMPLE_POLICY_PATH)
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "eval" / "questions.yaml")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    for key, value in evaluate(args.policy, args.questions, args.show_misses).items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
