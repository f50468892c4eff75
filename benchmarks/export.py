"""Export throughput and peak memory for 20k and 200k pairs: memory must not grow with the corpus.

Pairs: the 691 UNER PUD sentences translated EN->ZH and ZH->EN through the reference endpoint
(1,382 real candidates), repeated with distinct ids up to the size asked (real sentences,
repeated). Each export runs in a fresh process, whose peak RSS is reported.
Run: .venv/bin/python benchmarks/export.py [--sizes 20000 200000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import real_candidates


def build_run_dir(folder: Path, size: int, real: list) -> None:
    from parallelner.run.candidate_store import CandidateStore

    with CandidateStore(folder).writer(rows_per_part=5000) as writer:
        for k in range(size):
            c = real[k % len(real)]
            writer.add(replace(c, id=f"{c.id}#{k // len(real)}", source_id=f"{c.source_id}#{k}"))


def child(run_dir: str, corpus: str) -> None:
    """Runs in its own process: export, then print rows, seconds and peak RSS as JSON."""
    from parallelner.export.corpus import export_job

    started = time.perf_counter()
    manifest = export_job(Path(run_dir), Path(corpus))
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = sum(manifest["counts"].values())
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "peak_mb": peak_mb,
                "shards": len(manifest["shards"]),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    ap.add_argument("--child", nargs=2)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        real = real_candidates(Path(tmp) / "real")
        print(f"{len(real)} real candidates, {sum(c.status == 'passed' for c in real)} passed")
        for size in args.sizes:
            run_dir, corpus = Path(tmp) / f"run-{size}", Path(tmp) / f"corpus-{size}"
            build_run_dir(run_dir, size, real)
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(run_dir), str(corpus)],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{size:>7} candidates -> {r['rows']:>7} exported rows in {r['shards']} shards: "
                f"{r['rows'] / r['seconds']:,.0f} rows/s ({r['seconds']:.1f} s), "
                f"peak RSS {r['peak_mb']:.0f} MB"
            )


if __name__ == "__main__":
    main()
