"""Requests/s of the whole `parallelner translate` command against a plain openai loop.

Both talk to the same reference endpoint (set latency), in the same run, interleaved (plain,
ours, plain, ours, ...), best of ``--rounds``. The plain loop is what a person would write by
hand: asyncio + one `openai.AsyncOpenAI` + a semaphore, the first-round request of every sample,
no cache, no projection, no Parquet (the client's default retries); once with the client's
default transport, once with its aiohttp transport (which parallelner uses). Ours is the command
a user types, timed from process start to exit: imports, reading, repairs (later rounds),
filters, cache, parts, report.

Data: the 691 UNER PUD English sentences (../shared/data/uner-pud-en-zh), repeated with
distinct ids up to ``--samples`` (real sentences, repeated for volume), EN->ZH. The response
cache is off in the command (the repeats would be answered from it without a request).

    .venv/bin/python benchmarks/throughput.py --latency 0.05 --concurrency 128
    .venv/bin/python benchmarks/throughput.py --latency 1 --concurrency 512 --workers 1 2
    ... --old ../old-checkout   # the same command from another checkout, for old-vs-new
    ... --latency 1 --concurrency 256 --samples 25600 --no-plain   # long runs, ideal only

Each command's line also gives, from the endpoint's request counter polled every 0.2 s, when
its first request arrived (the start), its steady rate (10-90 % of its requests) and when its
last one arrived (the rest is the last replies, their repair rounds and the exit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import repeated_inputs, scratch_dir

ROOT = Path(__file__).resolve().parent.parent
# as the `parallelner` script runs it; -m also runs an older checkout's cli (--old)
COMMAND = [sys.executable, "-m", "parallelner.cli", "translate"]
PLAIN_LOOPS = (("plain openai loop", False), ("plain loop, aiohttp", True))


async def plain_loop(
    base_url: str, requests: list[list[dict]], concurrency: int, aiohttp: bool = False
) -> float:
    """requests/s of a hand-written AsyncOpenAI + semaphore loop (``aiohttp``: with openai's
    aiohttp transport, as parallelner uses it)."""
    import openai

    from parallelner.llm.prompts import load_prompts

    http = {"http_client": openai.DefaultAioHttpClient()} if aiohttp else {}
    # openai's default retries (2): at 512 in flight a connect may time out on a loaded machine
    client = openai.AsyncOpenAI(base_url=base_url, api_key="EMPTY", max_retries=2, **http)
    gate = asyncio.Semaphore(concurrency)
    fmt = load_prompts().response_format

    async def one(messages: list[dict]) -> None:
        async with gate:
            await client.chat.completions.create(
                model="reference", messages=messages, response_format=fmt, temperature=0.0
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(m) for m in requests))
    elapsed = time.perf_counter() - started
    await client.close()
    return len(requests) / elapsed


class Timeline:
    """The endpoint's request counter, polled every ``every`` seconds while a command runs:
    when its first request arrived, its rate between 10 % and 90 % of its requests (the
    steady rate, start and tail left out) and when its last one arrived."""

    def __init__(self, server, every: float = 0.2) -> None:
        self.server, self.every = server, every
        self.points: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(self.every):
            self._read()

    def _read(self) -> None:
        count = self.server.admin("stats")["requests"]
        self.points.append((time.perf_counter() - self._started, count))

    def __enter__(self) -> Timeline:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read()  # the command has exited: its last requests are counted by now

    def summary(self, total: int, ideal: float) -> str:
        def when(share: float) -> float:
            return next((t for t, c in self.points if c >= share * total), float("nan"))

        first, last = when(1 / total), when(1.0)
        steady = 0.8 * total / (when(0.9) - when(0.1))
        return (
            f"first request at {first:.1f} s, 10-90 %: {steady:.0f} req/s "
            f"({steady / ideal:.0%}), last request at {last:.1f} s"
        )


def in_checkout(code: Path) -> dict:
    """Where and with what environment a process imports ``code``'s parallelner: in ``code``
    itself, since `python -m` puts the working folder on sys.path ahead of PYTHONPATH (from
    another folder an --old run imported this checkout's code, until 2026-11-29)."""
    return {"env": {**os.environ, "PYTHONPATH": str(code)}, "cwd": code}


def run_command(
    code: Path, source: Path, out: Path, base_url: str, concurrency: int, workers: int | None
) -> tuple[float, dict]:
    """Wall seconds of one `parallelner translate` (from ``code``) and its report.json."""
    argv = [
        *COMMAND,
        str(source),
        "--src-lang=en",
        "--tgt-lang=zh",
        f"--out={out}",
        "--format=jsonl",
        f"--base-url={base_url}",
        "--model=reference",
        f"--concurrency={concurrency}",
        "--cache=off",  # the samples repeat: a cache would answer the repeats without a request
        "--no-progress",
    ]
    if workers:  # 0: the command's default
        argv.append(f"--workers={workers}")
    started = time.perf_counter()
    subprocess.run(argv, **in_checkout(code), check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    return wall, json.loads((out / "report.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=128)
    ap.add_argument("--samples", type=int, default=0, help="default: 40 s of ideal throughput")
    ap.add_argument(
        "--workers", type=int, nargs="*", default=[1], help="worker counts to run (0: default)"
    )
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument(
        "--no-plain",
        action="store_true",
        help="skip the plain loops (long runs judged against the ideal only)",
    )
    ap.add_argument("--old", type=Path, help="another checkout to run the same command from")
    args = ap.parse_args()
    ideal = args.concurrency / args.latency
    n = args.samples or int(min(ideal, 450) * 40)

    from parallelner.llm.prompts import load_prompts
    from parallelner.readers import ReadOptions, read_samples
    from parallelner.reference.process import ReferenceServer

    tmp = scratch_dir("pn-throughput-")
    source = repeated_inputs(tmp, n, ("en",))["en"]
    prompts = load_prompts()
    jsonl = ReadOptions(format="jsonl")
    requests = [prompts.messages(s, "zh") for s in read_samples([source], "en", options=jsonl)]
    contenders: list[tuple[str, Path, int | None]] = [
        (f"parallelner translate --workers {w}" if w else "parallelner translate", ROOT, w)
        for w in args.workers
    ]
    if args.old:
        contenders.append((f"old ({args.old.name})", args.old.resolve(), None))
    for _, code, _ in contenders:  # each contender runs the code it names, not this checkout's
        found = subprocess.run(
            [sys.executable, "-c", "import parallelner; print(parallelner.__file__)"],
            **in_checkout(code),
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        assert Path(found).is_relative_to(code), f"{code}: imports {found}"
    best: dict[str, float] = {}
    detail: dict[str, str] = {}
    pairs = Path(__file__).resolve().parent.parent.parent / "shared/data/uner-pud-en-zh/pairs.jsonl"
    with ReferenceServer(pairs, latency=args.latency) as server:
        for r in range(args.rounds):
            for name, aiohttp in () if args.no_plain else PLAIN_LOOPS:
                rate = asyncio.run(plain_loop(server.base_url, requests, args.concurrency, aiohttp))
                best[name] = max(best.get(name, 0.0), rate)
            for name, code, workers in contenders:
                server.admin("reset")
                out = tmp / f"out-{r}-{abs(hash(name))}"
                with Timeline(server) as timeline:
                    wall, report = run_command(
                        code, source, out, server.base_url, args.concurrency, workers
                    )
                sent = server.admin("stats")["requests"]
                if sent / wall > best.get(name, 0.0):
                    best[name] = sent / wall
                    passed = report.get("by_status", {}).get("passed", "?")
                    detail[name] = (
                        f"{sent} requests in {wall:.1f} s, {passed} passed; "
                        f"{timeline.summary(sent, ideal)}"
                    )
    plain = best.get("plain openai loop")
    print(
        f"latency {args.latency * 1000:.0f} ms, {args.concurrency} in flight, {n} samples "
        f"EN->ZH, best of {args.rounds} (interleaved); ideal {ideal:.0f} req/s"
    )
    for name, rate in best.items():
        extra = f"  [{detail[name]}]" if name in detail else ""
        versus = f"{rate / plain:5.2f}x plain" if plain else ""
        print(f"  {name:34s} {rate:7.1f} req/s  {rate / ideal:5.0%} of ideal  {versus}{extra}")


if __name__ == "__main__":
    main()
