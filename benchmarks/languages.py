"""Every language pair of the shared PUD data through the reference endpoint (human
translations): how many label-consistent pairs the filters reject, whether their target spans
are exact, and whether every entity-incomplete pair is rejected.

Directions: EN<->DE, EN<->PT, EN<->RU, EN<->SV (``uner-pud-multi``, 691 pairs each) and
EN<->ZH (``uner-pud-en-zh``). A pair is label-consistent when both sides carry the same label
sequence; entity-incomplete when the target side has fewer entities than the source (the
reference reply then leaves one out, as a model that drops an entity would).
Run: .venv/bin/python benchmarks/languages.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import translate_both_ways

from parallelner.run.candidate_store import CandidateStore

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
CORPORA = [
    ("zh", SHARED / "uner-pud-en-zh" / "pairs.jsonl", SHARED / "uner-pud-en-zh"),
    *[
        (lang, SHARED / "uner-pud-multi" / f"pairs-en-{lang}.jsonl", SHARED / "uner-pud-multi")
        for lang in ("de", "pt", "ru", "sv")
    ],
]


def _gold(side: dict) -> list[tuple[int, int, str]]:
    return sorted((e["start"], e["end"], e["label"]) for e in side["entities"])


def figures(out: Path, pairs: dict[str, dict], src: str, tgt: str) -> dict[str, object]:
    rows: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for c in CandidateStore(out).read():
        if c.src_lang != src:
            continue
        pair = pairs[c.source_id]
        rows["total"] += 1
        rows["passed"] += c.status == "passed"
        if pair["consistent"]:
            rows["consistent"] += 1
            if c.status != "passed":
                rows["consistent rejected"] += 1
                reasons.update(c.reasons)
            else:
                spans = sorted((s.start, s.end, s.label) for s in c.tgt_entities if s)
                rows["consistent passed, spans exact"] += spans == _gold(pair[tgt])
        if len(pair[tgt]["entities"]) < len(pair[src]["entities"]):
            rows["entity-incomplete"] += 1
            rows["entity-incomplete rejected"] += c.status == "rejected"
    return {"rows": rows, "reasons": reasons}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, help="keep the run folders here (default: temporary)")
    args = ap.parse_args()
    header = (
        "| direction | pairs | passed | label-consistent | rejected | spans exact | "
        "entity-incomplete rejected |"
    )
    print(header)
    print("|---" * 7 + "|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        started = time.perf_counter()
        notes = []
        for lang, pairs_file, data in CORPORA:
            pairs = {
                json.loads(line)["id"].removeprefix("pud-"): json.loads(line)
                for line in pairs_file.open(encoding="utf-8")
            }
            out = folder / f"en-{lang}"
            inputs = {"en": data / "en_pud.iob2", lang: data / f"{lang}_pud.iob2"}
            translate_both_ways(pairs_file, inputs, out)
            for src, tgt in (("en", lang), (lang, "en")):
                f = figures(out, pairs, src, tgt)
                r = f["rows"]
                bad = r["consistent rejected"]
                print(
                    f"| {src}→{tgt} | {r['total']} | {r['passed']} | {r['consistent']} | "
                    f"{bad} ({bad / r['consistent']:.2%}) | "
                    f"{r['consistent passed, spans exact']} of {r['consistent'] - bad} | "
                    f"{r['entity-incomplete rejected']} of {r['entity-incomplete']} |"
                )
                if f["reasons"]:
                    notes.append(f"{src}→{tgt}: {dict(f['reasons'])}")
        print("\nreasons of the rejected label-consistent pairs:")
        for note in notes:
            print(f"  {note}")
        print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
