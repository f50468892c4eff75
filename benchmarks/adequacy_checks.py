"""The free adequacy checks (``--adequacy checks``: numbers, words left untranslated) on human
and on machine translations, no LLM call:

    .venv/bin/python benchmarks/adequacy_checks.py [--show 5]

1. Human translations: the shared UNER PUD pairs, EN↔ZH, DE, PT, RU, SV, both ways (691 each).
   A flag here is a false alarm or the human translation's own slip (it prints them to read).
2. A real model's: Qwen2.5-Coder-1.5B-Instruct's passed pairs
   (``benchmarks/data/real-model-passed.jsonl``, made by ``benchmarks/real_model.py``) against
   a person's reading (``benchmarks/data/real-model-adequacy-labels.tsv``): bad caught, good
   sent to review.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from parallelner.filters.adequacy import free_checks
from parallelner.records import Candidate, Span

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
DATA = ROOT / "benchmarks" / "data"
OTHERS = ("zh", "de", "pt", "ru", "sv")


def _spans(items: list[dict | None]) -> tuple[Span | None, ...]:
    return tuple(None if e is None else Span(e["start"], e["end"], e["label"], e["text"])
                 for e in items)  # fmt: skip


def pud_candidates(other: str, src: str, tgt: str) -> list[Candidate]:
    """The human translations of one shared PUD file as passed candidates (the free checks read
    only the target's spans; where the two sides hold different counts, the first ones)."""
    name = (
        "uner-pud-en-zh/pairs.jsonl" if other == "zh" else f"uner-pud-multi/pairs-en-{other}.jsonl"
    )
    found = []
    for line in (SHARED / name).read_text(encoding="utf-8").splitlines():
        p = json.loads(line)
        src_spans, tgt_spans = _spans(p[src]["entities"]), _spans(p[tgt]["entities"])
        n = min(len(src_spans), len(tgt_spans))
        found.append(Candidate(
            f"{p['id']}:{src}-{tgt}", p["id"], src, tgt, p[src]["text"], p[tgt]["text"],
            src_spans[:n], tgt_spans[:n], "passed", confidence=1.0,
        ))  # fmt: skip
    return found


def model_candidates() -> list[Candidate]:
    """The real model's passed pairs kept in ``benchmarks/data``."""
    found = []
    for line in (DATA / "real-model-passed.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        found.append(Candidate(
            r["id"], r["id"].split(":")[0], r["src_lang"], r["tgt_lang"], r["src_text"],
            r["tgt_text"], _spans(r["src_entities"]), _spans(r["tgt_entities"]), "passed",
            attempts=r["attempts"], raw_reply=r["raw_reply"], confidence=1.0,
            projection=tuple(r["projection"]),
        ))  # fmt: skip
    return found


LABELS = DATA / "real-model-adequacy-labels.tsv"


def labels(path: Path = LABELS) -> dict[str, bool]:
    """A person's reading of a model's pairs (``id<TAB>good|bad<TAB>why``): id → good."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            ident, verdict, *_ = line.split("\t")
            out[ident] = verdict == "good"
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--show", type=int, default=3, help="flagged pairs to print per direction")
    args = p.parse_args()
    print("## human translations (shared UNER PUD)")
    print("| direction | pairs | numbers | words left | cannot tell (words) | µs a pair |")
    print("|---|---|---|---|---|---|")
    shown = []
    for other in OTHERS:
        for src, tgt in (("en", other), (other, "en")):
            cands = pud_candidates(other, src, tgt)
            started = time.perf_counter()
            found = [free_checks(c) for c in cands]
            micros = (time.perf_counter() - started) / len(cands) * 1e6
            numbers = sum(any(f.startswith("numbers") for f in a.found) for a in found)
            words = sum(any(f.startswith("words_left") for f in a.found) for a in found)
            blind = sum("words_left" in a.not_applicable for a in found)
            print(f"| {src}→{tgt} | {len(cands)} | {numbers} | {words} | {blind} | {micros:.0f} |")
            shown += [(c, a) for c, a in zip(cands, found, strict=True) if a.found][: args.show]
    for c, a in shown:
        print(f"  {c.id}: {'; '.join(a.found)}\n    {c.src_text[:110]}\n    {c.tgt_text[:110]}")

    print("\n## Qwen2.5-Coder-1.5B-Instruct's passed pairs")
    known = labels()
    cands = model_candidates()
    for direction in ("en-zh", "zh-en"):
        mine = [c for c in cands if c.id.endswith(direction)]
        found = {c.id: free_checks(c) for c in mine}
        flagged = [i for i, a in found.items() if a.found]
        bad = [i for i in found if known.get(i) is False]
        good = [i for i in found if known.get(i) is True]
        line = f"{direction}: {len(flagged)} of {len(mine)} passed pairs to review"
        if bad or good:
            line += (f"; of those a person read: bad caught {sum(i in flagged for i in bad)} "
                     f"of {len(bad)}, good to review {sum(i in flagged for i in good)} of "
                     f"{len(good)}")  # fmt: skip
        print(line)
        for i in flagged:
            verdict = {True: "good", False: "bad"}.get(known.get(i), "?")  # type: ignore[arg-type]
            print(f"  {i} ({verdict}): {'; '.join(found[i].found)}")


if __name__ == "__main__":
    main()
