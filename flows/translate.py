"""translate_flow: read -> translate + project -> filter, one Prefect task per shard of samples.

Inside a shard, requests go out concurrently (bounded by ``endpoint.concurrency``). Shard tasks
run in worker processes (Prefect's ProcessPoolTaskRunner, ``parallel_shards`` at a time), each
with its own interpreter, so shards use every core; the flow process holds the folder lock for
all of them. Shard tasks are cached by (shard content hash, settings fingerprint, output
folder) with INPUTS + TASK_SOURCE, their cache records kept in ``OUT/.prefect-cache``: a rerun
after a crash skips finished shards, and an unfinished one resumes where its candidate parts
stop (its finished LLM calls come from the response cache).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import INPUTS, TASK_SOURCE
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import ProcessPoolTaskRunner

from flows.config import CorpusConfig, DirectionConfig
from parallelner.candidate_store import CandidateStore
from parallelner.config import load_settings
from parallelner.errors import ConfigError
from parallelner.filters.source_language import SAMPLE_SIZE, check_source
from parallelner.jobs import Known, check_direction, record_inputs, translate_job
from parallelner.locks import hold
from parallelner.partitions import Partition, check_folder, mark_finished, select
from parallelner.prompts import prompt_versions
from parallelner.readers import Quarantine, ReadStats, read_samples
from parallelner.records import Candidate
from parallelner.report import RunFigures, write_report
from parallelner.shards import ShardSpec, write_shards


@task(retries=2, retry_delay_seconds=10)
def make_shards(direction: DirectionConfig, config: CorpusConfig) -> list[ShardSpec]:
    """Read one direction's inputs (bad records per config) into shard files, once their first
    sentences are checked to be in ``src_lang`` (unless ``force``)."""
    out = config.out_dir
    partition = Partition.parse(config.partition, "partition")
    paths = [Path(p) for p in direction.inputs]
    if not direction.force:
        first = read_samples(
            paths, direction.src_lang, fmt=direction.format, on_bad_record="skip", limit=SAMPLE_SIZE
        )
        verdict = check_source(first, direction.src_lang)
        if verdict.wrong:
            where = ", ".join(direction.inputs)
            raise ConfigError(verdict.message(where, "src_lang = ", "force = true"))
    stats = ReadStats()
    quarantine = Quarantine(out / "quarantine.jsonl")
    try:
        samples = read_samples(
            [Path(p) for p in direction.inputs],
            direction.src_lang,
            fmt=direction.format,
            on_bad_record=config.on_bad_record,
            quarantine=quarantine,
            stats=stats,
        )
        samples = select(samples, partition)
        folder = out / "shards" / f"{direction.src_lang}-{direction.tgt_lang}"
        if partition:
            folder = folder / partition.tag
        specs = write_shards(
            samples, folder, config.shard_size, direction.src_lang, direction.tgt_lang
        )
    finally:
        quarantine.close()
    record_inputs(out, [Path(p) for p in direction.inputs], direction.src_lang, direction.tgt_lang)
    get_run_logger().info(
        "%s-%s%s: %d samples in %d shards (%d read), %d bad records skipped",
        direction.src_lang,
        direction.tgt_lang,
        f" partition {partition}" if partition else "",
        sum(s.samples for s in specs),
        len(specs),
        stats.read,
        stats.skipped,
    )
    return specs


@task(retries=2, retry_delay_seconds=10, persist_result=True, result_serializer="json")
def translate_shard(
    shard: ShardSpec,
    out: str,
    fingerprint: str,
    settings: dict,
    failed_before: int = 0,
    known: dict | None = None,
) -> dict:
    """Translate one shard into OUT/candidates (resuming); its run figures.

    ``settings`` holds no secret (the key is read from the environment here) and is left out of
    the cache key: ``fingerprint`` stands for what decides the output. ``failed_before``, the
    shard's failed candidates when the run started, is in the key so that a shard which left
    failures behind runs again, and retries them, instead of being answered from the cache.
    ``known``: the shard's candidate ids already in the folder (``done``, ``failed``), read by
    the flow once for every shard; out of the cache key.
    """
    del fingerprint, failed_before  # part of the cache key only
    state = None
    if known is not None:
        state = Known(done=set(known["done"]), failed=set(known["failed"]))
    # One process per shard task already: no worker processes inside it.
    resolved = load_settings(overrides={**settings, "workers": 1})
    figures = translate_job(
        [Path(shard.path)],
        Path(out),
        shard.src_lang,
        shard.tgt_lang,
        resolved,
        fmt="jsonl",
        record_sources=False,
        summarize=False,
        lock=False,  # the flow process holds the folder lock for its shard tasks
        known=state,
        mark=False,  # the flow marks a partition finished once all its shards are
        force=True,  # make_shards checked the source language once, before any shard
    )
    return {
        "shard": shard.index,
        "direction": f"{shard.src_lang}-{shard.tgt_lang}",
        **figures["run"],
    }


def _cached_translate_shard(config: CorpusConfig):
    policy = (INPUTS - "settings" - "known" + TASK_SOURCE).configure(
        key_storage=str(config.out_dir / ".prefect-cache")
    )
    return translate_shard.with_options(cache_policy=policy)


@task
def summarize(config: CorpusConfig, shard_figures: list[dict], seconds: float) -> dict:
    """report.json over every candidate, with this run's summed figures."""
    run = RunFigures(command="flow", wall_seconds=seconds)
    for f in shard_figures:
        run.samples_read += f["samples_read"]
        if f["cached"]:  # no work in this run: its samples were all done before
            run.already_done += f["samples_read"]
            continue
        run.already_done += f["already_done"]
        run.translated += f["translated"]
        run.requests += f["requests"]
        run.cache_hits += f["cache_hits"]
        run.retries += f["retries"]
        run.failed_calls += f["failed_calls"]
    extra = {
        "shards": {"total": len(shard_figures), "cached": sum(f["cached"] for f in shard_figures)}
    }
    return write_report(config.out_dir, run, extra)


@flow(name="translate", task_runner=ProcessPoolTaskRunner(max_workers=2))
def translate_flow(config: CorpusConfig) -> dict:
    """Every direction of the config, shard by shard; the run's report.

    Shards run ``parallel_shards`` at a time: call ``with_parallel_shards(config)`` for a flow
    whose task runner has that many workers (build_corpus does).
    """
    started = time.perf_counter()
    settings = config.settings()
    for d in config.directions:
        check_direction(d.src_lang, d.tgt_lang)
    shard_task = _cached_translate_shard(config)
    # Prompts are files, outside TASK_SOURCE: their version must be part of the cache key.
    fingerprint = settings.fingerprint(prompt_versions())
    partition = Partition.parse(config.partition, "partition")
    tag = partition.tag if partition else None
    command = "parallelner translate flow" + (f" partition {partition}" if partition else "")
    with hold(config.out_dir, command, partition=tag), api_for_task_processes():
        check_folder(CandidateStore(config.out_dir).parts(), partition, config.out_dir)
        shards = [s for d in config.directions for s in make_shards(d, config)]
        # The folder is read once here, not by every shard task.
        done, failed = CandidateStore(config.out_dir).done_and_failed()
        futures = []
        for s in shards:
            known = shard_known(s, done, failed)
            futures.append(
                shard_task.submit(
                    s,
                    str(config.out_dir),
                    fingerprint,
                    settings.public(),
                    len(known["failed"]),
                    known,
                )
            )
        # A shard answered from Prefect's cache did no work in this run: count it as such.
        figures = [{**f.result(), "cached": f.state.name == "Cached"} for f in futures]
        if partition:  # every shard is done: the partition is, in each direction
            for d in config.directions:
                pair = f"{d.src_lang}-{d.tgt_lang}"
                mine = [f for f in figures if f["direction"] == pair]
                mark_finished(
                    config.out_dir,
                    partition,
                    pair,
                    {"samples": sum(f["samples_read"] for f in mine), "shards": len(mine)},
                )
        return summarize(config, figures, time.perf_counter() - started)


@contextmanager
def api_for_task_processes() -> Iterator[None]:
    """Shard tasks in processes talk to this flow's Prefect API. Without PREFECT_API_URL the
    flow runs on Prefect's temporary local server, whose address the task processes would not
    know: each would start a server of its own (15-20 s each). Name it to them."""
    if PREFECT_API_URL.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the one this process already runs (or starts it)
    server.start()
    with temporary_settings({PREFECT_API_URL: server.api_url}):
        yield


def shard_known(shard: ShardSpec, done: set[str], failed: set[str]) -> dict[str, list[str]]:
    """The shard's candidate ids among the folder's ``done`` and ``failed`` ones."""
    with open(shard.path, encoding="utf-8") as fh:
        ids = [
            Candidate.make_id(json.loads(line)["id"], shard.src_lang, shard.tgt_lang)
            for line in fh
            if line.strip()
        ]
    return {"done": [i for i in ids if i in done], "failed": [i for i in ids if i in failed]}


def with_parallel_shards(config: CorpusConfig):
    """translate_flow with ``config.parallel_shards`` shard tasks at a time."""
    workers = max(1, config.parallel_shards)
    return translate_flow.with_options(task_runner=ProcessPoolTaskRunner(max_workers=workers))
