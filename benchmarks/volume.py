"""Wall time, requests/s and peak memory of each command at two corpus sizes (10k and 100k).

Each command is the CLI a user types, run as its own process: translate (EN->ZH, reference
endpoint at --latency, response cache off), filter, export, evaluate (against the PUD gold
pairs). Peak RSS is the largest process of the command (the parent or one worker). The
samples are the 691 UNER PUD English sentences repeated with distinct ids (real sentences,
repeated for volume). Run: .venv/bin/python benchmarks/volume.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import DATA, repeated_inputs, scratch_dir

PARALLELNER = str(Path(sys.executable).parent / "parallelner")


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB, largest process) of one command."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{argv[:2]} exited {proc.returncode}")
    wall = time.perf_counter() - started
    peak = usage.ru_maxrss / 1024  # the command and the workers it waited for
    return wall, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=256)
    args = ap.parse_args()

    from parallelner.reference.process import ReferenceServer

    tmp = scratch_dir("pn-volume-")
    rows = []
    with ReferenceServer(DATA / "pairs.jsonl", latency=args.latency) as server:
        for n in args.sizes:
            source = repeated_inputs(tmp, n, ("en",))["en"]
            out, corpus = tmp / f"out-{n}", tmp / f"corpus-{n}"
            server.admin("reset")
            translate = [PARALLELNER, "translate", str(source), "--src-lang=en", "--tgt-lang=zh"]
            translate += [f"--out={out}", "--format=jsonl", f"--base-url={server.base_url}"]
            translate += ["--model=reference", f"--concurrency={args.concurrency}"]
            translate += ["--cache=off", "--no-progress"]
            wall, peak = timed(translate)
            requests = server.admin("stats")["requests"]
            workers = json.loads((out / "report.json").read_text())["run"]["workers"]
            rows.append((n, f"translate ({workers} workers)", wall, peak, requests / wall))
            wall, peak = timed([PARALLELNER, "filter", str(out)])
            rows.append((n, "filter", wall, peak, None))
            wall, peak = timed([PARALLELNER, "export", str(out), f"--out={corpus}"])
            rows.append((n, "export", wall, peak, None))
            evaluate = [PARALLELNER, "evaluate", str(corpus), f"--gold={DATA / 'pairs.jsonl'}"]
            wall, peak = timed(evaluate)
            rows.append((n, "evaluate", wall, peak, None))
    print(
        f"latency {args.latency * 1000:.0f} ms, {args.concurrency} in flight, cache off; "
        "PUD sentences repeated with distinct ids"
    )
    print(f"  {'samples':>8}  {'command':24s} {'wall s':>8} {'peak RSS MB':>12} {'req/s':>8}")
    for n, name, wall, peak, rate in rows:
        shown = f"{rate:8.0f}" if rate else " " * 8
        print(f"  {n:8d}  {name:24s} {wall:8.1f} {peak:12.0f} {shown}")
    sizes = sorted(args.sizes)
    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        for name in ("filter", "export", "evaluate"):
            a = next(r[3] for r in rows if r[0] == small and r[1] == name)
            b = next(r[3] for r in rows if r[0] == big and r[1] == name)
            print(f"  {name}: peak RSS at {big} / at {small} = {b / a:.2f}")


if __name__ == "__main__":
    main()
