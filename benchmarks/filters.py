"""Filter throughput on one core over 100k candidates, and langdetect calls the script check saved.

Candidates: the 691 UNER PUD sentences translated EN->ZH and ZH->EN through the reference
endpoint (1,382 real candidates, human translations), then repeated with distinct ids up to
100,000 (real sentences, repeated: the figures are per candidate, not per distinct sentence).
Run: .venv/bin/python benchmarks/filters.py [--n 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import real_candidates
from langdetect import detect_langs

from parallelner.config import FilterSettings
from parallelner.filters.alignment import _name, check_alignment
from parallelner.filters.judge import Judge
from parallelner.text.transliteration import phonetic_key


def alignment_cost(real: list) -> tuple[float, int]:
    """Microseconds per candidate of the alignment check alone, romanization cache cold (each
    distinct candidate once, so no name is looked up twice), and how many had 2+ entities."""
    phonetic_key.cache_clear()
    _name.cache_clear()
    started = time.perf_counter()
    for c in real:
        check_alignment(c)
    per = (time.perf_counter() - started) / len(real) * 1e6
    return per, sum(len(c.src_entities) >= 2 for c in real)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        real = real_candidates(Path(tmp))
    candidates = [
        replace(c, id=f"{c.id}#{k}") for k in range(args.n // len(real) + 1) for c in real
    ][: args.n]
    context = Judge(FilterSettings())
    started = time.perf_counter()
    judged = [context.judge(c) for c in candidates]
    elapsed = time.perf_counter() - started
    passed = sum(c.status == "passed" for c in judged)
    figures = context.figures()
    checks, calls = figures["language_checks"], figures["langdetect_calls"]
    sample = [c.tgt_text for c in real[:200]]
    t0 = time.perf_counter()
    for text in sample:
        detect_langs(text)
    per_call = (time.perf_counter() - t0) / len(sample)
    print(f"{len(candidates)} candidates ({len(real)} real, repeated with distinct ids), one core")
    print(
        f"  filters: {len(candidates) / elapsed:,.0f} candidates/s ({elapsed:.2f} s), "
        f"{passed} passed"
    )
    print(
        f"  language checks {checks}: langdetect called {calls} times, "
        f"saved {checks - calls} ({(checks - calls) / checks:.1%})"
    )
    print(
        f"  langdetect costs {per_call * 1000:.2f} ms a call here: running it on every "
        f"candidate would add {per_call * len(candidates):.0f} s"
    )
    per, multi = alignment_cost(real)
    print(
        f"  alignment check alone: {per:.0f} us a candidate over the {len(real)} distinct ones "
        f"({multi} with 2+ entities), romanization cache cold; findings {figures['alignment']}"
    )


if __name__ == "__main__":
    main()
