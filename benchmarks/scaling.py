"""Corpus throughput with 1, 2 and 4 Prefect workers on this machine: a partitioned build
(`python -m flows.deploy --partitions 4`) on a real Prefect server and a process work pool, each
worker with its own "node" (a reference endpoint whose capacity is fixed by the run's
concurrency limit and the endpoint's latency: concurrency / latency requests a second).

Samples: the 691 UNER PUD EN sentences repeated with distinct ids up to --samples (real
sentences, repeated); EN->ZH; the response cache is off, so every sample costs its requests.
Prints, per worker count: wall time from submitting to the gathered corpus, requests/s, the
speed-up over one worker, and each partition run's time against the time its requests take at
the node's capacity (the difference is the flow's overhead per run).

Run: .venv/bin/python benchmarks/scaling.py [--samples 3000] [--latency 0.5] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import DATA, PREFECT, repeated_inputs, scratch_dir, start_server

REPO = Path(__file__).resolve().parent.parent


def run_durations(env: dict) -> list[float]:
    """Seconds of each completed build-corpus/partition run on the server."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}),
        get_client(sync_client=True) as client,
    ):
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["partition"])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.COMPLETED]))
            ),
        )
        return [(r.end_time - r.start_time).total_seconds() for r in runs]


def one(workers: int, args, inputs: Path, tmp: Path) -> dict:
    home = tmp / f"prefect-{workers}"
    home.mkdir()
    server, env = start_server(home)
    from parallelner.reference.process import ReferenceServer

    nodes = [ReferenceServer(DATA / "pairs.jsonl", latency=args.latency) for _ in range(workers)]
    procs = []
    try:
        for k, node in enumerate(nodes):
            procs.append(
                subprocess.Popen(
                    [
                        PREFECT,
                        "worker",
                        "start",
                        "--pool",
                        "bench",
                        "--type",
                        "process",
                        "--name",
                        f"node-{k}",
                        "--limit",
                        "1",
                    ],
                    cwd=REPO,
                    env={
                        **env,
                        "PARALLELNER_BASE_URL": node.base_url,
                        "PREFECT_WORKER_QUERY_SECONDS": "2",
                    },
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )  # fmt: skip
            )
        out = tmp / f"out-{workers}"
        config = tmp / f"build-{workers}.toml"
        config.write_text(
            f'out = "{out}"\nshard_size = 500\nparallel_shards = 1\n\n'
            f'[endpoint]\nmodel = "reference"\nconcurrency = {args.concurrency}\ncache = "off"\n\n'
            '[review]\nmode = "none"\n\n'
            f'[[directions]]\nsrc_lang = "en"\ntgt_lang = "zh"\ninputs = ["{inputs}"]\n'
            'format = "jsonl"\n',
            encoding="utf-8",
        )
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "flows.deploy", "--config", str(config), "--pool", "bench",
             "--partitions", str(args.partitions)],
            cwd=REPO, env=env, capture_output=True, text=True,
        )  # fmt: skip
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
        requests = sum(n.admin("stats")["requests"] for n in nodes)
        durations = run_durations(env)
        manifest = json.loads((out / "corpus" / "manifest.json").read_text())
    finally:
        for p in procs:
            os.killpg(p.pid, 9)
        for node in nodes:
            node.stop()
        os.killpg(server.pid, 9)
    return {
        "workers": workers,
        "wall": wall,
        "requests": requests,
        "rows": sum(manifest["counts"].values()),
        "runs": durations,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=3000)
    ap.add_argument("--latency", type=float, default=0.5)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--workers", default="1,2,4")
    args = ap.parse_args()
    tmp = scratch_dir("pn-scaling-")
    inputs = repeated_inputs(tmp, args.samples, ("en",))["en"]
    capacity = args.concurrency / args.latency
    print(
        f"{args.samples} samples EN->ZH in {args.partitions} partitions; each node answers in "
        f"{args.latency * 1000:.0f} ms, {args.concurrency} in flight: {capacity:.0f} req/s a node; "
        f"{os.cpu_count()} cores"
    )
    base = None
    for workers in (int(w) for w in args.workers.split(",")):
        r = one(workers, args, inputs, tmp)
        rate = r["requests"] / r["wall"]
        base = base or rate
        per_run = r["requests"] / args.partitions / capacity
        runs = ", ".join(f"{d:.0f}" for d in sorted(r["runs"]))
        print(
            f"  {workers} worker(s): {r['wall']:6.1f} s to the gathered corpus ({r['rows']} rows), "
            f"{r['requests']} requests, {rate:5.1f} req/s = {rate / base:.2f}x one worker "
            f"(ideal {min(workers, args.partitions) * capacity:.0f} req/s)"
        )
        print(
            f"      partition runs {runs} s; their requests alone take {per_run:.0f} s at a "
            f"node's capacity: {sum(r['runs']) / len(r['runs']) - per_run:+.0f} s a run of flow "
            "overhead (start, shard files, report)"
        )


if __name__ == "__main__":
    main()
