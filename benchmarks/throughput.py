"""Throughput of `translate` against the reference endpoint at a set latency.

Prints achieved requests/s next to the ideal (in flight / latency) and next to a bare async
`openai` loop sending the same first-round requests to the same server in the same run.
Data: the 691 UNER PUD sentences in both directions (1,382 distinct requests), from
../shared/data/uner-pud-en-zh. Run: .venv/bin/python benchmarks/throughput.py [--latency 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import openai
from common import DATA

from parallelner.config import load_settings
from parallelner.jobs import translate_job
from parallelner.prompts import load_prompts
from parallelner.readers import read_samples
from parallelner.reference.process import ReferenceServer


async def bare_loop(base_url: str, requests: list[list[dict]], concurrency: int) -> float:
    """requests/s of a plain AsyncOpenAI + semaphore loop (no retries, cache or projection)."""
    client = openai.AsyncOpenAI(base_url=base_url, api_key="EMPTY", max_retries=0)
    gate = asyncio.Semaphore(concurrency)
    fmt = load_prompts().response_format

    async def one(messages: list[dict]) -> None:
        async with gate:
            await client.chat.completions.create(
                model="bare", messages=messages, response_format=fmt, temperature=0.0
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(m) for m in requests))
    elapsed = time.perf_counter() - started
    await client.close()
    return len(requests) / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()
    prompts = load_prompts()
    directions = [("en", "zh"), ("zh", "en")]
    with (
        ReferenceServer(DATA / "pairs.jsonl", latency=args.latency) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        requests = [
            prompts.messages(s, tgt)
            for src, tgt in directions
            for s in read_samples([DATA / f"{src}_pud.iob2"], src)
        ]
        bare = asyncio.run(bare_loop(server.base_url, requests, args.concurrency))
        server.admin("reset")
        total_requests, total_seconds = 0, 0.0
        for src, tgt in directions:
            settings = load_settings(
                overrides={
                    "base_urls": [server.base_url],
                    "model": "reference",
                    "concurrency": args.concurrency,
                    "cache": str(Path(tmp) / "cache.sqlite"),
                }
            )
            started = time.perf_counter()
            report = translate_job(
                [DATA / f"{src}_pud.iob2"], Path(tmp) / f"{src}-{tgt}", src, tgt, settings
            )
            total_seconds += time.perf_counter() - started
            total_requests += report["run"]["requests"]
        ideal = args.concurrency / args.latency if args.latency else float("inf")
        ours = total_requests / total_seconds
        print(
            f"latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}, "
            f"{len(requests)} samples ({total_requests} requests incl. repairs)"
        )
        print(f"  ideal (in flight / latency): {ideal:8.1f} req/s")
        print(f"  bare async openai loop:      {bare:8.1f} req/s  ({bare / ideal:.0%} of ideal)")
        print(
            f"  parallelner translate:       {ours:8.1f} req/s  ({ours / ideal:.0%} of ideal, "
            f"{ours / bare:.0%} of bare; wall {total_seconds:.2f} s incl. read, filters, write)"
        )
        print(
            "  (repairs are sequential rounds: the last samples of a run cost up to "
            f"{3 * args.latency:.1f} s with little else in flight)"
        )


if __name__ == "__main__":
    main()
