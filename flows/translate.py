"""translate_flow: read -> translate + project -> filter, in a few long Prefect tasks.

Each direction's input is written into shard files; its shards are split into
``parallel_shards`` runs of consecutive shards, one task each, run in worker processes
(Prefect's ProcessPoolTaskRunner, ``parallel_shards`` at a time), each with its own interpreter,
so the runs use every core. Inside a task the run's shards stream through one client as the CLI
translates one input: requests go out concurrently (bounded by ``endpoint.concurrency``) with no
pause between shards. A task per shard costs about 1.3 s of Prefect orchestration and a ramp
down and up of the requests each (+40 % wall time at 500-sample shards on a fast endpoint), so
the tasks are few and long. The flow process holds the folder lock for all of them. Tasks are
cached by (their shards' content hashes, settings fingerprint, output folder) with INPUTS +
TASK_SOURCE, their cache records kept in ``OUT/.prefect-cache``: a rerun of a finished folder
sends nothing, and after a crash an unfinished task resumes where its candidate parts stop
(finished samples are skipped, finished LLM calls come from the response cache).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import INPUTS, TASK_SOURCE
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import ProcessPoolTaskRunner

from flows.config import CorpusConfig, DirectionConfig
from parallelner.config import load_settings
from parallelner.errors import ConfigError, InputError
from parallelner.filters.adequacy import AdequacyCounts
from parallelner.filters.source_language import SAMPLE_SIZE
from parallelner.io.locks import hold
from parallelner.llm.prompts import prompt_versions
from parallelner.readers import ReadOptions, ReadStats, read_samples
from parallelner.records import Candidate
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.fast_exit import in_pool_worker
from parallelner.run.partitions import Partition, check_folder, mark_finished
from parallelner.run.progress import Progress
from parallelner.run.report import RunFigures, write_report
from parallelner.run.shards import ShardSpec, runs_of_shards, write_shards
from parallelner.run.steps import (
    Known,
    check_direction,
    check_source_language,
    checked_samples,
    open_run,
    prepare,
    record_inputs,
    reject_glossary_mismatches,
    summary,
    translate,
)


def retry_unless_wrong_settings(task, task_run, state) -> bool:
    """Prefect's retry condition of the flow's tasks: retry what may pass a second time (an
    endpoint or a disk that failed for a moment), not a wrong setting or a bad input record,
    which would fail the same way 10 and 20 s later."""
    try:
        state.result()
    except (ConfigError, InputError):
        return False
    except BaseException:
        return True
    return True


@task(retries=2, retry_delay_seconds=10, retry_condition_fn=retry_unless_wrong_settings)
def make_shards(direction: DirectionConfig, config: CorpusConfig) -> list[ShardSpec]:
    """Read one direction's inputs (bad records per config) into shard files, once their first
    sentences are checked to be in ``src_lang`` (unless ``force``)."""
    out = config.out_dir
    settings = replace(config.settings(), read=direction.read_options())
    paths = [Path(p) for p in direction.inputs]
    if not direction.force:
        first = read_samples(
            paths,
            direction.src_lang,
            options=settings.read,
            on_bad_record="skip",
            limit=SAMPLE_SIZE,
        )
        where = ", ".join(direction.inputs)
        check_source_language(list(first), direction.src_lang, where, "src_lang = ", "force = true")
    stats = ReadStats()
    partition = Partition.parse(config.partition, "partition")
    folder = out / "shards" / f"{direction.src_lang}-{direction.tgt_lang}"
    if partition:
        folder = folder / partition.tag
    with checked_samples(paths, direction.src_lang, out, settings, stats) as samples:
        specs = write_shards(
            samples, folder, config.shard_size, direction.src_lang, direction.tgt_lang
        )
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


@task(
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=retry_unless_wrong_settings,
    persist_result=True,
    result_serializer="json",
)
def translate_shards(
    shards: list[ShardSpec],
    out: str,
    fingerprint: str,
    settings: dict,
    failed_before: int = 0,
    known: dict | None = None,
) -> dict:
    """Translate a run of consecutive shards of one direction into OUT/candidates (resuming);
    its run figures.

    ``settings`` holds no secret (the key is read from the environment here) and is left out of
    the cache key: ``fingerprint`` stands for what decides the output. ``failed_before``, the
    shards' failed candidates when the run started, is in the key so that a task which left
    failures behind runs again, and retries them, instead of being answered from the cache.
    ``known``: the shards' candidate ids already in the folder (``done``, ``failed``), read by
    the flow once for every task; out of the cache key.
    """
    del fingerprint, failed_before  # part of the cache key only
    first, last = shards[0], shards[-1]
    pair = f"{first.src_lang}-{first.tgt_lang}"
    get_run_logger().info(
        "%s: shards %d-%d (%d samples)",
        pair,
        first.index,
        last.index,
        sum(s.samples for s in shards),
    )
    # One process per task already: no worker processes inside it; the shards' own format.
    resolved = load_settings(overrides={**settings, "workers": 1})
    resolved = replace(resolved, read=ReadOptions(format="jsonl"))
    # The flow holds the folder lock, checked the source language once before any shard,
    # records the original inputs and marks a partition finished once all its shards are.
    run = open_run(
        [Path(s.path) for s in shards], Path(out), first.src_lang, first.tgt_lang, resolved
    )
    prepare(run, Known(done=set(known["done"]), failed=set(known["failed"])) if known else None)
    figures = summary(run, translate(run, Progress()))
    adequacy = (figures.get("filters") or {}).get("adequacy") or {}
    return {
        "shards": [s.index for s in shards],
        "direction": pair,
        **figures["run"],
        "adequacy": adequacy,
    }


def _cached_translate_shards(config: CorpusConfig):
    policy = (INPUTS - "settings" - "known" + TASK_SOURCE).configure(
        key_storage=str(config.out_dir / ".prefect-cache")
    )
    return translate_shards.with_options(cache_policy=policy)


def shard_task_runner(workers: int) -> ProcessPoolTaskRunner:
    """``workers`` processes for the shard tasks; each ends without the interpreter's teardown
    once the flow is done with it (the flow waits for them: 1.4 s at 100k samples before)."""
    return ProcessPoolTaskRunner(max_workers=max(1, workers), initializer=in_pool_worker)


@task
def summarize(
    config: CorpusConfig, task_figures: list[dict], seconds: float, glossary_rejected: int = 0
) -> dict:
    """report.json over every candidate, with this run's summed figures."""
    run = RunFigures(command="flow", wall_seconds=seconds, glossary_rejected=glossary_rejected)
    for f in task_figures:
        run.samples_read += f["samples_read"]
        if f["cached"]:  # no work in this run: its samples were all done before
            run.already_done += f["samples_read"]
            continue
        run.already_done += f["already_done"]
        run.translated += f["translated"]
        run.requests += f["requests"]
        run.cache_hits += f["cache_hits"]
        run.retries += f["retries"]
        run.retried_failed += f["retried_failed"]
        run.failed_calls += f["failed_calls"]
    cached = [f for f in task_figures if f["cached"]]
    extra = {
        "shards": {
            "total": sum(len(f["shards"]) for f in task_figures),
            "cached": sum(len(f["shards"]) for f in cached),
        },
        "tasks": {"total": len(task_figures), "cached": len(cached)},
        "filters": {"adequacy": _adequacy(config, task_figures)},
    }
    return write_report(config.out_dir, run, extra)


def _adequacy(config: CorpusConfig, task_figures: list[dict]) -> dict[str, object]:
    """The adequacy figures of this run's tasks, summed (``not checked`` when it is off)."""
    method = config.settings().filters.adequacy
    found = [f.get("adequacy") or {} for f in task_figures]
    return AdequacyCounts.summed(method, found).figures()


@flow(name="translate", task_runner=shard_task_runner(2))
def translate_flow(config: CorpusConfig) -> dict:
    """Every direction of the config, shard by shard; the run's report.

    Each direction's shards run as ``parallel_shards`` tasks, that many at a time: call
    ``with_parallel_shards(config)`` for a flow whose task runner has that many workers
    (build_corpus does).
    """
    started = time.perf_counter()
    settings = config.settings()
    for d in config.directions:
        check_direction(d.src_lang, d.tgt_lang)
    task = _cached_translate_shards(config)
    # Prompts are files, outside TASK_SOURCE: their version must be part of the cache key.
    fingerprint = settings.fingerprint(prompt_versions())
    partition = Partition.parse(config.partition, "partition")
    tag = partition.tag if partition else None
    command = "parallelner translate flow" + (f" partition {partition}" if partition else "")
    with hold(config.out_dir, command, partition=tag), api_for_task_processes():
        check_folder(CandidateStore(config.out_dir).parts(), partition, config.out_dir)
        # In the task processes, every direction at once: they start while the inputs are read.
        made = [make_shards.submit(d, config) for d in config.directions]
        shards = [s for future in made for s in future.result()]
        for d in config.directions:  # the flow process alone writes inputs.json
            record_inputs(config.out_dir, [Path(p) for p in d.inputs], d.src_lang, d.tgt_lang)
        # The folder is read once here, not by every task: with a glossary, the passed pairs
        # it contradicts are rejected first (retried when retranslate names the reason).
        store = CandidateStore(config.out_dir)
        glossary_rejected = reject_glossary_mismatches(store, settings)
        done, failed = store.done_and_failed(settings.retranslate)
        futures = []
        for run in runs_of_shards(shards, max(1, config.parallel_shards)):
            known = shards_known(run, done, failed)
            futures.append(
                task.submit(
                    run,
                    str(config.out_dir),
                    fingerprint,
                    settings.public(),
                    len(known["failed"]),
                    known,
                )
            )
        # A task answered from Prefect's cache did no work in this run: count it as such.
        figures = [{**f.result(), "cached": f.state.name == "Cached"} for f in futures]
        if partition:  # every shard is done: the partition is, in each direction
            for d in config.directions:
                pair = f"{d.src_lang}-{d.tgt_lang}"
                mine = [f for f in figures if f["direction"] == pair]
                mark_finished(
                    config.out_dir,
                    partition,
                    pair,
                    {
                        "samples": sum(f["samples_read"] for f in mine),
                        "shards": sum(len(f["shards"]) for f in mine),
                    },
                )
        seconds = time.perf_counter() - started
        return summarize(config, figures, seconds, glossary_rejected)


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


def shards_known(shards: list[ShardSpec], done: set[str], failed: set[str]) -> dict[str, list[str]]:
    """The shards' candidate ids among the folder's ``done`` and ``failed`` ones."""
    if not done and not failed:  # a new folder: nothing to look up
        return {"done": [], "failed": []}
    ids = []
    for shard in shards:
        with open(shard.path, encoding="utf-8") as fh:
            ids += [
                Candidate.make_id(json.loads(line)["id"], shard.src_lang, shard.tgt_lang)
                for line in fh
                if line.strip()
            ]
    return {"done": [i for i in ids if i in done], "failed": [i for i in ids if i in failed]}


def with_parallel_shards(config: CorpusConfig):
    """translate_flow with ``config.parallel_shards`` tasks at a time."""
    return translate_flow.with_options(task_runner=shard_task_runner(config.parallel_shards))
