"""Wall time of the build_corpus flow against the same work done with the CLI, on 100k samples
with the reference endpoint at a set latency, every contender run as people run it: a process.

- CLI: `parallelner translate` EN->ZH, then ZH->EN (its worker processes, one per core), then
  `parallelner export` and `parallelner report` (the flow writes the same HTML page).
- flow, running server: `python -m flows.build_corpus --config C` with PREFECT_API_URL set to a
  Prefect server that is already up (as a deployment's run has it: served, or taken by a worker).
- flow, temporary server: the same command without PREFECT_API_URL (Prefect starts a temporary
  server for the run, as `make run` does).

Same endpoint, same requests in flight (the CLI's 128 split over its two worker processes; the
flow's 64 per task, two tasks at a time: each direction's shards as two runs), response cache
off in all (every sample costs its requests). Samples: the 691 UNER PUD sentences, EN->ZH and
ZH->EN, repeated with distinct ids up to 50k per direction (real sentences, repeated).

    .venv/bin/python benchmarks/flow_overhead.py [--latency 0.05] [--per-direction 50000]
        [--shard-size N (default: the flows' default)]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from common import DATA, repeated_inputs, scratch_dir, start_server

from flows.config import CorpusConfig

VENV = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
DIRECTIONS = (("en", "zh"), ("zh", "en"))


def run(argv: list[str], env: dict[str, str]) -> None:
    subprocess.run(argv, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def cli_commands(inputs: dict, out: Path, base_url: str, concurrency: int) -> list[list[str]]:
    """The commands a person types for the same work as build_corpus."""
    cli = str(VENV / "parallelner")
    endpoint = [f"--base-url={base_url}", "--model=reference", f"--concurrency={concurrency}"]
    return [
        *(
            [cli, "translate", str(inputs[s]), f"--src-lang={s}", f"--tgt-lang={t}"]
            + [f"--out={out}", "--format=jsonl", *endpoint, "--cache=off", "--no-progress"]
            for s, t in DIRECTIONS
        ),
        [cli, "export", str(out), f"--out={out / 'corpus'}"],
        [cli, "report", str(out)],
    ]


def flow_config(path: Path, inputs: dict, out: Path, base_url: str, args) -> Path:
    lines = [
        f'out = "{out}"',
        *([f"shard_size = {args.shard_size}"] if args.shard_size else []),
        "parallel_shards = 2",
        "[endpoint]",
        f'base_urls = ["{base_url}"]',
        'model = "reference"',
        f"concurrency = {args.concurrency // 2}",
        'cache = "off"',
        "[review]",
        'mode = "none"',
    ]
    for s, t in DIRECTIONS:
        lines += [
            "[[directions]]",
            f'src_lang = "{s}"',
            f'tgt_lang = "{t}"',
            f'inputs = ["{inputs[s]}"]',
            'format = "jsonl"',
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--per-direction", type=int, default=50_000)
    ap.add_argument("--concurrency", type=int, default=128)
    ap.add_argument("--shard-size", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=1, help="contenders interleaved, this many times")
    ap.add_argument(
        "--no-temporary-server", action="store_true", help="only the flow on a running server"
    )
    args = ap.parse_args()
    tmp = scratch_dir("pn-bench-")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
        "PREFECT_HOME": str(tmp / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    from parallelner.reference.process import ReferenceServer

    inputs = repeated_inputs(tmp, args.per_direction)
    times: dict[str, list[tuple[float, int]]] = {}
    prefect, server_env = start_server(tmp / "prefect-server")
    flows = [("flow, running server", {**env, "PREFECT_API_URL": server_env["PREFECT_API_URL"]})]
    if not args.no_temporary_server:
        flows.append(("flow, temporary server", env))
    try:
        with ReferenceServer(DATA / "pairs.jsonl", latency=args.latency) as server:

            def timed(name: str, commands: list[list[str]], run_env: dict[str, str]) -> None:
                server.admin("reset")
                started = time.perf_counter()
                for argv in commands:
                    run(argv, run_env)
                wall = time.perf_counter() - started
                times.setdefault(name, []).append((wall, server.admin("stats")["requests"]))

            for i in range(args.rounds):
                cli_out = tmp / f"cli-{i}"
                commands = cli_commands(inputs, cli_out, server.base_url, args.concurrency)
                timed("CLI commands", commands, env)
                for name, run_env in flows:
                    out = tmp / f"{name.replace(', ', '-').replace(' ', '-')}-{i}"
                    toml = flow_config(out.with_suffix(".toml"), inputs, out, server.base_url, args)
                    build = [str(VENV / "python"), "-m", "flows.build_corpus", f"--config={toml}"]
                    timed(name, [build], run_env)
                    manifest = json.loads((out / "corpus" / "manifest.json").read_text())
                    cli_manifest = json.loads((cli_out / "corpus" / "manifest.json").read_text())
                    assert manifest["counts"] == cli_manifest["counts"], "different corpora"
    finally:
        os.killpg(prefect.pid, signal.SIGTERM)
        prefect.wait()
    n = 2 * args.per_direction
    print(
        f"{n} samples, endpoint latency {args.latency * 1000:.0f} ms, {args.concurrency} requests "
        f"in flight; flow: shards of {args.shard_size or CorpusConfig().shard_size} samples, "
        f"each direction's in two tasks, two at a time (two processes); {args.rounds} round(s), "
        "interleaved; the best of each"
    )
    cli = min(times["CLI commands"])[0]
    for name, runs in times.items():
        wall, requests = min(runs)
        rate = f"({requests} requests, {requests / wall:.0f} req/s)"
        extra = (
            "" if name == "CLI commands" else f": {wall - cli:+.1f} s ({(wall - cli) / cli:+.1%})"
        )
        each = " / ".join(f"{w:.1f}" for w, _ in runs)
        print(f"  {name + ':':24s}{wall:7.1f} s  {rate}{extra}   [each: {each} s]")


if __name__ == "__main__":
    main()
