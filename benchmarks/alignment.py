"""Label faithfulness: how many entity swaps the alignment check catches, and what it costs
clean pairs.

1. UNER PUD EN<->ZH (691 pairs, both directions) through the reference endpoint, which swaps
   the surface forms of two entities (ids 1 and 2, else the first two of its reply) on every
   round in 30 % of the samples (seeded). A swap is caught when its candidate ends rejected or
   below the review threshold (confidence < 0.9). Then the same candidates re-filtered with the
   verification round (``filter --verify``, answered by the reference endpoint).
   How each entity was placed (``projection``) and how many recovered spans land on another
   entity's human rendering: under the swap, and with the first entity's form not in its
   translation (``entity_not_in_translation``), where every recovery step runs.
2. UNER PUD EN<->DE/PT/RU/SV (691 pairs each, 8 directions), no fault: how many label-consistent
   pairs (same label sequence on both sides) the check rejects, and each of them, to read.

Run: .venv/bin/python benchmarks/alignment.py [--swap-rate 0.3] [--seed 0] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from common import print_recoveries, recovery_figures, translate_both_ways

from parallelner.config import load_settings
from parallelner.filters.alignment import check_alignment
from parallelner.reference.process import ReferenceServer
from parallelner.reference.references import ReferenceIndex
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.jobs import filter_job

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
THRESHOLD = 0.9


def swapped_labels(index: ReferenceIndex, pair_id: str, src: str) -> tuple[str, str] | None:
    """The labels of the two source entities the swap_entities fault exchanges, if any."""
    ref = index.by_id[pair_id][src]
    entities = ref.answer()["entities"]
    by_id = {e["id"]: e for e in entities}  # type: ignore[union-attr]
    ids = [1, 2] if 1 in by_id and 2 in by_id else [e["id"] for e in entities][:2]  # type: ignore[union-attr]
    if len(ids) < 2 or by_id[ids[0]]["text"] == by_id[ids[1]]["text"]:
        return None
    return ref.source.entities[ids[0] - 1].label, ref.source.entities[ids[1] - 1].label


def caught(c) -> bool:
    return c.status == "rejected" or (c.confidence or 0.0) < THRESHOLD


def without_check(c) -> float:
    """The confidence ``c`` would have without the alignment check's factor."""
    if c.status != "passed":
        return 0.0
    return c.confidence / check_alignment(c).factor


def swap_figures(folder: Path, index: ReferenceIndex, swapped: set[str], consistent: set[str]):
    """Counts per source language and kind of sample: swaps (in label-consistent pairs, where
    the reference pairing is right, and in all pairs), untouched label-consistent pairs."""
    rows = Counter()
    for c in CandidateStore(folder).read():
        pid = f"pud-{c.source_id}"
        if pid in swapped:
            labels = swapped_labels(index, pid, c.src_lang)
            if labels is None:
                continue
            kind = "different-label swaps" if labels[0] != labels[1] else "same-label swaps"
            kinds = [f"{kind} (all pairs)"] + ([f"{kind} (consistent)"] * (pid in consistent))
            for k in kinds:
                rows[(c.src_lang, k, "total")] += 1
                rows[(c.src_lang, k, "caught")] += caught(c)
                rows[(c.src_lang, k, "rejected")] += c.status == "rejected"
        elif pid in consistent:
            kind = "untouched label-consistent"
            rows[(c.src_lang, kind, "total")] += 1
            rows[(c.src_lang, kind, "passed >= 0.9")] += not caught(c)
            rows[(c.src_lang, kind, "entity_misaligned")] += "entity_misaligned" in c.reasons
            before = without_check(c) >= THRESHOLD or (
                "entity_misaligned" in c.reasons and c.reasons == ("entity_misaligned",)
            )
            rows[(c.src_lang, kind, "passed >= 0.9 without the check")] += before
            rows[(c.src_lang, kind, "still passed >= 0.9")] += before and not caught(c)
    return rows


KINDS = (
    "different-label swaps (consistent)",
    "different-label swaps (all pairs)",
    "same-label swaps (consistent)",
    "same-label swaps (all pairs)",
    "untouched label-consistent",
)


def print_swaps(title: str, rows: Counter) -> None:
    print(f"\n{title}")
    for src in ("en", "zh"):
        for kind in KINDS:
            total = rows[(src, kind, "total")]
            keys = sorted({k[2] for k in rows if k[:2] == (src, kind)} - {"total"})
            parts = ", ".join(
                f"{k} {rows[(src, kind, k)]} ({rows[(src, kind, k)] / total:.1%})" for k in keys
            )
            print(f"  {src}->{'zh' if src == 'en' else 'en'} {kind}: {total}: {parts}")


def en_zh(args, tmp: Path) -> None:
    data = SHARED / "uner-pud-en-zh"
    lines = [json.loads(x) for x in (data / "pairs.jsonl").open(encoding="utf-8")]
    ids = sorted(p["id"] for p in lines)
    rng = random.Random(args.seed)
    swapped = set(rng.sample(ids, round(len(ids) * args.swap_rate)))
    consistent = {p["id"] for p in lines if p["consistent"]}
    index = ReferenceIndex(data / "pairs.jsonl")
    out = tmp / "en-zh"
    started = time.perf_counter()
    faults = {pid: {"kind": "swap_entities"} for pid in swapped}
    inputs = {"en": data / "en_pud.iob2", "zh": data / "zh_pud.iob2"}
    translate_both_ways(data / "pairs.jsonl", inputs, out, faults)
    print(
        f"EN<->ZH: {len(ids)} pairs, {len(swapped)} with swapped entities, translated "
        f"in {time.perf_counter() - started:.1f} s"
    )
    print_swaps("without --verify", swap_figures(out, index, swapped, consistent))
    print("\nhow the entities were placed (swapped forms are in the translation: no recovery)")
    print_recoveries(recovery_figures(CandidateStore(out).read(), data / "pairs.jsonl"))
    recover = tmp / "en-zh-recover"
    lost = {pid: {"kind": "entity_not_in_translation"} for pid in swapped}
    translate_both_ways(data / "pairs.jsonl", inputs, recover, lost)
    print(
        "\nthe same samples with their first entity's form not in the translation "
        "(entity_not_in_translation): recoveries, and wrong ones"
    )
    print_recoveries(recovery_figures(CandidateStore(recover).read(), data / "pairs.jsonl"))
    verified = tmp / "en-zh-verify"
    shutil.copytree(out, verified)
    with ReferenceServer(data / "pairs.jsonl") as server:
        server.admin("faults", {"faults": faults})
        settings = load_settings(
            overrides={"base_urls": [server.base_url], "model": "reference"}, env={}
        )
        settings = replace(settings, filters=replace(settings.filters, verify=True))
        report = filter_job(verified, settings)
    print_swaps("with --verify", swap_figures(verified, index, swapped, consistent))
    v = report["filters"]["verify"]
    print(
        f"  verification round: {v['calls']} calls, {v['prompt_tokens']} prompt + "
        f"{v['completion_tokens']} completion tokens; agree {v['agree']}, disagree "
        f"{v['disagree']}, unknown {v['unknown']}"
    )


def multi(tmp: Path) -> None:
    data = SHARED / "uner-pud-multi"
    print("\nEN<->DE/PT/RU/SV, no fault: label-consistent pairs rejected as entity_misaligned")
    for lang in ("de", "pt", "ru", "sv"):
        pairs = data / f"pairs-en-{lang}.jsonl"
        lines = [json.loads(x) for x in pairs.open(encoding="utf-8")]
        consistent = {p["id"].removeprefix("pud-") for p in lines if p["consistent"]}
        out = tmp / f"en-{lang}"
        inputs = {"en": data / "en_pud.iob2", lang: data / f"{lang}_pud.iob2"}
        translate_both_ways(pairs, inputs, out)
        by_src = Counter()
        for c in CandidateStore(out).read():
            if c.source_id in consistent:
                by_src[(c.src_lang, "total")] += 1
                if "entity_misaligned" in c.reasons:
                    by_src[(c.src_lang, "misaligned")] += 1
                    tgt = [s.text if s else None for s in c.tgt_entities]
                    print(f"    {c.id}: {[s.text for s in c.src_entities]} -> {tgt}")
        for src, tgt in (("en", lang), (lang, "en")):
            n, bad = by_src[(src, "total")], by_src[(src, "misaligned")]
            print(f"  {src}->{tgt}: {bad} of {n} ({bad / n:.2%})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--swap-rate", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="keep the run folders here (default: temporary)")
    ap.add_argument("--only", choices=("en-zh", "multi"), help="run one part")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        if args.only != "multi":
            en_zh(args, folder)
        if args.only != "en-zh":
            multi(folder)


if __name__ == "__main__":
    main()
