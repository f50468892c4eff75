"""A real model through the whole translate stage: N UNER PUD sentences EN→ZH and ZH→EN,
one request at a time, then every adequacy method on the passed pairs.

    make real-model            # Qwen2.5-Coder-1.5B behind llama-cpp-python on 127.0.0.1:8091
    .venv/bin/python benchmarks/real_model.py --n 100 [--labels benchmarks/data/FILE.tsv]

Prints, per direction: pass rate, reasons, how the entities of passed pairs were found
(recovery steps), confidence of passed pairs, seconds, requests and tokens per sample, the
structured-output mode; then, per adequacy method (checks, round_trip, judge, as the filter
stage runs them: the LLM methods with the free checks), what it finds, what it costs, and —
with ``--labels`` (``id<TAB>good|bad<TAB>why``, a person's reading of the model's
translations) — how well it separates the bad translations from the good ones (AUC, and at
its ``min_adequacy``: bad caught, good sent to review). Replies are cached in ``--out``, so a
rerun costs nothing; the first run takes about 10 s a sample on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from adequacy_checks import labels as read_labels
from common import print_recoveries, recovery_figures

from parallelner.config import load_settings
from parallelner.filters.adequacy import METHODS, Adequacy, check_adequacy
from parallelner.records import Candidate
from parallelner.run.backend import make_backend, open_cache, resolve_structured_output
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.jobs import translate_job
from parallelner.run.translate import llm_access
from parallelner.translation.translate import TranslateSettings

ROOT = Path(__file__).resolve().parent.parent


def _auc(scores: list[tuple[float, bool]]) -> float | None:
    """P(a good pair scores above a bad one), ties half: how well a score separates them."""
    good = [s for s, ok in scores if ok]
    bad = [s for s, ok in scores if not ok]
    if not good or not bad:
        return None
    wins = sum((g > b) + 0.5 * (g == b) for g in good for b in bad)
    return wins / (len(good) * len(bad))


def _settings(args):
    """The run's settings: one request at a time, ``--structured-output auto``."""
    overrides = {"base_urls": [args.base_url], "model": args.model, "concurrency": 1}
    return load_settings(overrides={**overrides, "structured_output": "auto"}, env={})


def _translate(args, settings, src: str, tgt: str) -> tuple[Path, dict]:
    out = args.out / f"{src}-{tgt}"
    translate_job([ROOT / "sample" / f"{src}-pud.iob2"], out, src, tgt, settings, limit=args.n)
    return out, json.loads((out / "report.json").read_text())


async def _adequacy(args, settings, out: Path, passed: list[Candidate]) -> dict[str, dict]:
    """Each adequacy method on the passed pairs, as the filter stage runs it (the LLM methods
    run the free checks too)."""
    cache = open_cache(settings, out)
    backend = make_backend(settings, cache)
    cfg = TranslateSettings(src_lang="", tgt_lang="", model=args.model)
    found: dict[str, dict] = {}
    try:
        for method in METHODS[1:]:
            before = backend.stats.requests
            started = time.perf_counter()
            checked: dict[str, Adequacy] = {}
            for c in passed:
                checked[c.id] = await check_adequacy(c, method, llm_access(backend, cfg))
            tokens = sum(a.prompt_tokens + a.completion_tokens for a in checked.values())
            found[method] = {
                "checked": checked,
                "tokens_per_pair": tokens / max(1, len(passed)),
                "requests": backend.stats.requests - before,
                "seconds": time.perf_counter() - started,
            }
    finally:
        await backend.aclose()
        if cache is not None:
            cache.close()
    return found


def _rank(a: Adequacy) -> float:
    """A pair's place in the AUC ranking: a free check's finding under any score, an LLM
    check that could not tell under any score it gives."""
    if a.found:
        return -2.0
    return -1.0 if a.score is None and a.prompt_tokens else (1.0 if a.score is None else a.score)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base-url", default="http://127.0.0.1:8091/v1")
    p.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    p.add_argument("--n", type=int, default=100, help="sentences each way (the sample has 100)")
    p.add_argument("--out", type=Path, default=Path("/tmp/parallelner-bench-real-model"))
    p.add_argument("--labels", type=Path, help="id<TAB>good|bad<TAB>why, per passed pair")
    p.add_argument("--directions", default="en-zh,zh-en")
    args = p.parse_args()
    labels = read_labels(args.labels) if args.labels else {}
    settings = _settings(args)
    # The mode translate's probe picks, for the adequacy calls and the printout (one probe).
    probed_settings, probed = resolve_structured_output(settings)
    for direction in args.directions.split(","):
        src, tgt = direction.split("-")
        out, report = _translate(args, settings, src, tgt)
        run, by = report["run"], report["by_status"]
        cands = list(CandidateStore(out).read())
        passed = [c for c in cands if c.status == "passed"]
        conf = [c.confidence for c in passed if c.confidence is not None]
        n = max(1, report["total"])
        tokens = report["tokens"]["prompt"] + report["tokens"]["completion"]
        print(f"\n## {direction}: {report['total']} sentences, {args.model}")
        print(f"structured output: {probed['used']} ({probed.get('note') or 'probed'})")
        print(f"passed {by['passed']} ({by['passed'] / n:.1%}), rejected {by['rejected']}, "
              f"failed {by['failed']}")  # fmt: skip
        print("reasons:", ", ".join(f"{k} {v}" for k, v in report["by_reason"].items()) or "-")
        print("entities of passed pairs found:",
              ", ".join(f"{k} {v}" for k, v in report["projection"].items()) or "-")  # fmt: skip
        print("every placed entity (passed and rejected pairs), against the human translation:")
        print_recoveries(recovery_figures(cands))
        if conf:
            print(f"confidence of passed: median {statistics.median(conf):.3f}, "
                  f"≥0.9 (auto-accepted) {sum(x >= 0.9 for x in conf)} of {len(conf)}")  # fmt: skip
        # The runs that sent requests (a rerun answered from the cache costs nothing).
        paid = [r for r in report["runs"] if r.get("translated") and r.get("requests")]
        seconds = sum(r["wall_seconds"] for r in paid) / max(1, sum(r["translated"] for r in paid))
        print(f"per sample: {seconds:.1f} s when sent ({run['requests']} requests this run, "
              f"{run['cache_hits']} from cache), {report['attempts']['total'] / n:.2f} "
              f"rounds, {tokens / n:.0f} tokens")  # fmt: skip
        found = asyncio.run(_adequacy(args, probed_settings, out, passed))
        print("| adequacy | s a pair | requests a pair | tokens a pair | to review "
              "| AUC good>bad | bad caught | good to review |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        for method, f in found.items():
            checked = f["checked"]
            low = {i for i, a in checked.items() if a.is_low(method) or a.is_unknown(method)}
            auc = _auc([(_rank(a), labels[i]) for i, a in checked.items() if i in labels])
            bad = [i for i in checked if labels.get(i) is False]
            good = [i for i in checked if labels.get(i) is True]
            k = max(1, len(passed))
            seconds = f"{f['seconds'] / k:.1f}" if f["requests"] else "cached"
            print(
                f"| {method} | {seconds} | {f['requests'] / k:.2f} | "
                f"{f['tokens_per_pair']:.0f} | {len(low)} of {len(checked)} | "
                f"{'-' if auc is None else f'{auc:.2f}'} | "
                f"{sum(i in low for i in bad)} of {len(bad)} | "
                f"{sum(i in low for i in good)} of {len(good)} |"
            )
        if args.labels:
            for i, a in sorted(found["judge"]["checked"].items()):
                rt = found["round_trip"]["checked"][i].score
                print(f"  {i}: {'good' if labels.get(i) else 'bad' if i in labels else '?'} "
                      f"found {list(a.found)} round_trip {rt} judge {a.score}")  # fmt: skip


if __name__ == "__main__":
    main()
