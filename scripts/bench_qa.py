"""Benchmark policy search: index build time and per-question latency at about 1,000 passages.

    python scripts/bench_qa.py [--copies 9] [--rounds 5]

The example policy is repeated with renumbered sections until the index holds about
1,000 passages; the evaluation questions are then asked repeatedly.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain import EXAMPLE_POLICY_PATH  # noqa: E402
from domain.policy_parse import parse_policy  # noqa: E402
from domain.policy_search import PolicyIndex, Vocabulary, shared_embedder  # noqa: E402
from domain.policy_text import Placeholders  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def enlarged_policy(copies: int) -> str:
    original = EXAMPLE_POLICY_PATH.read_text(encoding="utf-8")
    parts = [original]
    for copy in range(1, copies):
        def shift(match: re.Match) -> str:
            return f"{match.group(1)}{int(match.group(2)) + 17 * copy}"
        parts.append(re.sub(r"(^#+ |^)(\d+)(?=\.)", shift, original, flags=re.MULTILINE).split("\n", 4)[-1])
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=18)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    questions = yaml.safe_load((ROOT / "tests/eval/questions.yaml").read_text())
    asked = [q["q"] for q in questions["in_scope"]] + questions["out_of_scope"]

    text = enlarged_policy(args.copies)
    vocabulary = Vocabulary.load()
    before = rss_mb()
    loading = time.perf_counter()
    embedder = shared_embedder()
    loaded = time.perf_counter()
    model_mb = rss_mb() - before
    started = time.perf_counter()
    document = parse_policy(text, Placeholders("Example Council", "the Board", "board@example.gov.uk"))
    parsed = time.perf_counter()
    index = PolicyIndex(document, vocabulary)
    built = time.perf_counter()

    for question in asked:  # warm caches (stemmer) once, as a running bot would be
        index.search(question)
    latencies = []
    for _ in range(args.rounds):
        for question in asked:
            t0 = time.perf_counter()
            index.search(question)
            latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"semantic model: loaded in {(loaded - loading) * 1000:.0f} ms; adds {model_mb:.0f} MB resident "
          f"({embedder.nbytes / 2**20:.0f} MB embedding table)")
    print(f"passages: {len(index.units)} in {len(document.sections)} sections")
    print(f"parse: {(parsed - started) * 1000:.0f} ms; index build: {(built - parsed) * 1000:.0f} ms")
    print(f"questions: {len(latencies)}; latency ms: median {statistics.median(latencies):.2f}, "
          f"p95 {p95:.2f}, max {latencies[-1]:.2f}")


if __name__ == "__main__":
    main()
