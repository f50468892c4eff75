"""One name, one rendering, measured: how many of the entities that repeat across a corpus a
model renders one way, before and after the glossary the run proposes.

Data: the UNER PUD English sentences (../shared/data/uner-pud-en-zh) that hold an entity
(normalised surface and label) found in two or more of them: 171 of 691, 85 such entities.
EN->ZH.

1. ``plain``: the sentences translated as usual.
2. ``parallelner glossary build``: the run's clear majorities (a rendering with 60 % of its
   entity's pairs or more) become entries.
3. ``glossary``: a copy of the plain folder, its cache included, rerun with that glossary and
   ``--retranslate glossary_mismatch``: the passed pairs the glossary contradicts are
   rejected, and translated again with the required form in the prompt; every other pair and
   every cached call stays.

Prints, for both: passed pairs, the share of repeated entities rendered one way, requests and
tokens per pair (over the whole corpus, the rerun's added). ``--base-url``/``--model`` for a
real model (``make real-model``: Qwen2.5-Coder-1.5B, about 10 s a sentence on 2 cores; its
replies are cached in ``--out``, so a rerun costs nothing); without them the reference endpoint
(human translations), which cannot follow a glossary: there the rerun must leave every
translation as it was.

    .venv/bin/python benchmarks/consistency.py --out /tmp/consistency \\
        --base-url http://127.0.0.1:8091/v1 --model qwen2.5-coder-1.5b-instruct
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections import defaultdict
from pathlib import Path

from common import scratch_dir

from parallelner.config import load_settings
from parallelner.glossary.consistency import COLUMNS, consistency
from parallelner.glossary.entries import glossary_text, normalise
from parallelner.readers import read_samples
from parallelner.review.glossary import propose_glossary
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.jobs import translate_job

ROOT = Path(__file__).resolve().parent.parent
PUD = ROOT.parent / "shared" / "data" / "uner-pud-en-zh" / "en_pud.iob2"


def repeated_sentences(out: Path, limit: int) -> tuple[Path, int]:
    """The PUD sentences holding an entity that two or more of them hold, as JSONL."""
    samples = list(read_samples([PUD], "en"))
    where: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s in samples:
        for e in s.entities:
            where[(e.label, normalise(e.text))].add(s.id)
    keep = set().union(*(ids for ids in where.values() if len(ids) >= 2))
    chosen = [s for s in samples if s.id in keep][: limit or None]
    path = out / "repeated.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for s in chosen:
            entities = [e.as_dict() for e in s.entities]
            fh.write(json.dumps({"id": s.id, "text": s.text, "entities": entities}) + "\n")
    return path, len(chosen)


def figures(folder: Path, report: dict, seconds: float, tokens: int) -> dict[str, object]:
    """A folder's figures; ``tokens``: what its runs spent (replaced candidates' included)."""
    c = consistency(CandidateStore(folder).rows(COLUMNS)).get("en-zh")
    total = report["total"]
    requests = sum(r.get("requests", 0) for r in report["runs"])
    return {
        "passed": report["by_status"].get("passed", 0),
        "total": total,
        "repeated": c.repeated if c else 0,
        "one_way": c.one_way if c else 0,
        "share": c.share if c else None,
        "requests_per_pair": requests / total,
        "tokens_per_pair": tokens / total,
        "seconds": seconds,
    }


def line(name: str, f: dict[str, object]) -> str:
    share = "-" if f["share"] is None else f"{f['share']:.1%}"
    return (
        f"  {name:9} passed {f['passed']}/{f['total']}, repeated entities rendered one way "
        f"{f['one_way']}/{f['repeated']} ({share}), {f['requests_per_pair']:.2f} requests and "
        f"{f['tokens_per_pair']:.0f} tokens a pair (whole corpus), {f['seconds']:.0f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, help="working folder (kept: replies are cached there)")
    ap.add_argument("--base-url", help="a real model's endpoint (default: the reference one)")
    ap.add_argument("--model", default="reference")
    ap.add_argument("--limit", type=int, default=0, help="at most N sentences (0: all)")
    args = ap.parse_args()
    out = args.out or scratch_dir("consistency")
    out.mkdir(parents=True, exist_ok=True)
    inputs, n = repeated_sentences(out, args.limit)
    server = None
    if args.base_url:
        base_url = args.base_url
    else:
        from parallelner.reference.process import ReferenceServer

        server = ReferenceServer(PUD.parent / "pairs.jsonl")
        base_url = server.base_url
    base = {"base_urls": [base_url], "model": args.model, "concurrency": 4}
    try:
        plain = out / "plain"
        started = time.perf_counter()
        report = translate_job([inputs], plain, "en", "zh", load_settings(overrides=base))
        spent = _tokens(CandidateStore(plain).read())
        before = figures(plain, report, time.perf_counter() - started, spent)
        proposal = propose_glossary(plain)
        glossary = out / "glossary.tsv"
        glossary.write_text(glossary_text(proposal.glossary, tsv=True), encoding="utf-8")
        rerun = out / "glossary"
        shutil.rmtree(rerun, ignore_errors=True)
        shutil.copytree(plain, rerun)
        settings = load_settings(
            overrides={**base, "glossary": str(glossary), "retranslate": ["glossary_mismatch"]}
        )
        started = time.perf_counter()
        report = translate_job([inputs], rerun, "en", "zh", settings)
        old = {c.id: c.prompt_version for c in CandidateStore(plain).read()}
        redone = [c for c in CandidateStore(rerun).read() if c.prompt_version != old.get(c.id)]
        seconds = before["seconds"] + time.perf_counter() - started
        after = figures(rerun, report, seconds, spent + _tokens(redone))
    finally:
        if server is not None:
            server.stop()
    print(f"{n} PUD sentences EN->ZH holding a repeated entity, model {args.model}")
    print(line("plain", before))
    print(
        f"  glossary: {len(proposal.glossary)} entries from clear majorities; "
        f"{proposal.unclear} repeated entities without one; the rerun rejected "
        f"{report['run']['glossary_rejected']} passed pairs it contradicts and translated "
        f"{report['run']['translated']} again"
    )
    print(line("glossary", after))
    changed = _changed(plain, rerun)
    print(f"  translations changed by the rerun: {changed}")


def _tokens(candidates) -> int:
    return sum(c.prompt_tokens + c.completion_tokens for c in candidates)


def _changed(a: Path, b: Path) -> int:
    first = {c.id: c.tgt_text for c in CandidateStore(a).read()}
    return sum(first.get(c.id) != c.tgt_text for c in CandidateStore(b).read())


if __name__ == "__main__":
    main()
