"""Whole jobs over an output folder, as the CLI runs them.

``translate_job``: the translate steps (``run.steps``) in order, under the folder's lock:
read -> translate + project -> filter -> candidate parts + report.json, resuming where an
earlier run over the same folder stopped. ``filter_job``: re-judge the parts with new
thresholds, without calling the LLM. The Prefect flows compose the same steps their own way.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from parallelner.bounded import gather_bounded
from parallelner.config import Settings
from parallelner.errors import ConfigError
from parallelner.filters.judge import Judge
from parallelner.glossary.entries import glossary_of
from parallelner.io.locks import hold
from parallelner.llm.backend import ClientStats
from parallelner.records import Candidate
from parallelner.run.backend import make_backend, open_cache, resolve_structured_output
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.progress import Progress
from parallelner.run.report import RunFigures, write_report
from parallelner.run.steps import (
    check_source_language,
    finish,
    lock,
    mark_partition,
    open_run,
    prepare,
    record_inputs,
    stopped_by,
    translate,
)
from parallelner.run.translate import llm_access, translate_settings


def translate_job(
    inputs: list[Path],
    out_dir: Path,
    src_lang: str,
    tgt_lang: str,
    settings: Settings,
    *,
    limit: int | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> dict:
    """Translate ``inputs`` into ``out_dir`` (resuming), then write and return report.json.

    Every input is read and checked before the first request (a bad record stops the run
    before anything is paid for); ``failed`` candidates of these inputs are retried; the folder
    is locked for the run. report.json is written even when the run stops on an error.
    force: translate even when the first samples do not read as ``src_lang`` (otherwise a
    ConfigError before any request).
    """
    run = open_run(inputs, out_dir, src_lang, tgt_lang, settings, limit)
    with lock(run):
        prepare(run)
        if not force:
            where = str(inputs[0]) if len(inputs) == 1 else "input"
            check_source_language(run.first, src_lang, where)
        record_inputs(out_dir, run.inputs, src_lang, tgt_lang)
        try:
            figures = translate(run, progress or Progress())
        except BaseException as e:
            finish(run, e.figures, stopped_by(e))  # type: ignore[attr-defined]
            raise
        report = finish(run, figures)
        mark_partition(run)
        return report


def filter_job(out_dir: Path, settings: Settings) -> dict:
    """Re-run the filters over ``out_dir``'s candidates with ``settings.filters``.

    No LLM call is made, except for the verification round and the round trip when they are
    switched on (answered from the response cache where the same call was made before).
    """
    with hold(out_dir, "parallelner filter"):
        return _filter_locked(out_dir, settings)


def _filter_locked(out_dir: Path, settings: Settings) -> dict:
    started = time.perf_counter()
    store = CandidateStore(out_dir)
    if not store.parts():
        raise ConfigError(f"{out_dir}: no candidates/part-*.parquet to filter")
    judged = store.check_unique()
    run = RunFigures(command="filter", judged=judged)
    extra: dict[str, object] = {}
    if not settings.filters.calls_llm:
        judge = Judge(settings.filters, glossary=glossary_of(settings.glossary))
        store.rewrite(lambda part: [judge.judge(c) for c in part])
        stats = ClientStats()
    else:
        judge, stats, extra["structured_output"] = _judge_with_llm(out_dir, store, settings)
    run.wall_seconds = time.perf_counter() - started
    run.count_client(stats)
    return write_report(out_dir, run, {"filters": judge.figures(), **extra})


def _judge_with_llm(
    out_dir: Path, store: CandidateStore, settings: Settings
) -> tuple[Judge, ClientStats, dict[str, object]]:
    """Re-judge every part with the checks that call the LLM (their calls answered from the
    folder's cache where they were made before); the judge, the client's counts and what the
    endpoints' probe found."""
    if not settings.model:
        raise ConfigError(
            "--verify, --round-trip and --adequacy need a model: pass --model or set "
            "PARALLELNER_MODEL"
        )
    settings, structured = resolve_structured_output(settings)
    cache = open_cache(settings, out_dir)
    backend = make_backend(settings, cache)
    # the back-translations' directions come from each candidate
    cfg = translate_settings(settings, "", "")
    judge = Judge(settings.filters, llm_access(backend, cfg), glossary=cfg.glossary)

    async def judge_part(part: list[Candidate]) -> list[Candidate]:
        return await gather_bounded(part, judge.judge_async, settings.concurrency)

    async def main() -> None:
        try:
            for path in store.parts():
                store.rewrite_part(path, await judge_part(store.read_part(path)))
        finally:
            await backend.aclose()

    try:
        asyncio.run(main())
    finally:
        if cache is not None:
            cache.close()
    return judge, backend.stats, structured
