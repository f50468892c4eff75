"""Wall time of build_corpus (Prefect, shard tasks in processes) against the same work done by
the jobs the CLI runs (translate both directions with its worker processes, then export), on
100k samples with the reference endpoint at a set latency. The flow runs twice: against a Prefect
server that is already up (as a deployment's run does: served, or taken by a worker) and on
Prefect's temporary server (a `python -m flows.build_corpus` with no PREFECT_API_URL, which
starts one for the run).

Samples: the 691 UNER PUD sentences, EN->ZH and ZH->EN, repeated with distinct ids up to 50k
per direction (real sentences, repeated); the response cache is off in both runs, so every
sample costs its requests. Run: .venv/bin/python benchmarks/flow_overhead.py [--latency 0.05]
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from common import DATA, repeated_inputs, start_server


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--per-direction", type=int, default=50_000)
    ap.add_argument("--concurrency", type=int, default=128)
    ap.add_argument("--shard-size", type=int, default=5000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pn-bench-"))
    os.environ.setdefault("PREFECT_HOME", str(tmp / "prefect-home"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.build_corpus import build_corpus
    from flows.config import CorpusConfig, DirectionConfig, EndpointConfig, ReviewConfig
    from parallelner.config import load_settings
    from parallelner.export.corpus import export_job
    from parallelner.jobs import translate_job
    from parallelner.reference.process import ReferenceServer

    inputs = repeated_inputs(tmp, args.per_direction)
    directions = [("en", "zh"), ("zh", "en")]
    with ReferenceServer(DATA / "pairs.jsonl", latency=args.latency) as server:
        started = time.perf_counter()
        settings = load_settings(
            overrides={
                "base_urls": [server.base_url],
                "model": "reference",
                "concurrency": args.concurrency,
                "cache": "off",
            }
        )
        for src, tgt in directions:
            translate_job([inputs[src]], tmp / "direct", src, tgt, settings, fmt="jsonl")
        export_job(tmp / "direct", tmp / "direct" / "corpus")
        direct = time.perf_counter() - started
        direct_requests = server.admin("stats")["requests"]
        server.admin("reset")

        config = CorpusConfig(
            out=str(tmp / "flow"),
            shard_size=args.shard_size,
            parallel_shards=2,
            directions=[
                DirectionConfig(src_lang=s, tgt_lang=t, inputs=[str(inputs[s])], format="jsonl")
                for s, t in directions
            ],
            endpoint=EndpointConfig(
                base_urls=[server.base_url],
                model="reference",
                concurrency=args.concurrency // 2,
                cache="off",
            ),
            review=ReviewConfig(mode="none"),
        )
        flows: dict[str, tuple[float, int]] = {}
        prefect, env = start_server(tmp / "prefect-server")
        try:
            for name, api in (("running server", env["PREFECT_API_URL"]), ("temporary", "")):
                server.admin("reset")
                run_config = config.model_copy(update={"out": str(tmp / f"flow-{len(flows)}")})
                named = temporary_settings({PREFECT_API_URL: api}) if api else nullcontext()
                with named:
                    started = time.perf_counter()
                    build_corpus(run_config)
                    flows[name] = (time.perf_counter() - started, server.admin("stats")["requests"])
        finally:
            os.killpg(prefect.pid, signal.SIGTERM)
            prefect.wait()
    n = 2 * args.per_direction
    print(
        f"{n} samples, endpoint latency {args.latency * 1000:.0f} ms, "
        f"{args.concurrency} requests in flight"
    )
    print(
        f"  CLI jobs:{'':24s}{direct:7.1f} s  ({direct_requests} requests, "
        f"{direct_requests / direct:.0f} req/s)"
    )
    for name, (flow, requests) in flows.items():
        print(
            f"  build_corpus, {name + ':':16s}{flow:7.1f} s  ({requests} requests, "
            f"{requests / flow:.0f} req/s; {n // args.shard_size} shard tasks, 2 processes): "
            f"{flow - direct:+.1f} s ({(flow - direct) / direct:+.1%})"
        )


if __name__ == "__main__":
    main()
