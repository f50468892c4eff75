"""Whole jobs over an output folder, shared by the CLI and the Prefect flows.

``translate_job``: read -> translate + project -> filter -> candidate parts + report.json,
resuming where an earlier run over the same folder stopped. ``filter_job``: re-judge the parts
with new thresholds, without calling the LLM.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

from parallelner.bounded import gather_bounded
from parallelner.config import Settings
from parallelner.errors import ConfigError, InputError
from parallelner.filters import FilterContext
from parallelner.filters.source_language import SAMPLE_SIZE, check_source
from parallelner.io.atomic import write_text_atomically
from parallelner.io.checksums import file_sha256
from parallelner.io.locks import hold
from parallelner.llm.backend import ClientStats
from parallelner.readers import Quarantine, ReadStats, read_samples
from parallelner.records import Candidate, RecordError, Sample, check_lang
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.partitions import Partition, check_folder, mark_finished, select
from parallelner.run.pool import WorkerSpec, read_spec, run_pool, share_of
from parallelner.run.report import RunFigures, write_report
from parallelner.run.translate import (
    Progress,
    ShareFigures,
    make_backend,
    open_cache,
    resolve_structured_output,
    translate_settings,
    translate_share,
)
from parallelner.translation.translate import TranslateSettings

__all__ = ["Progress", "filter_job", "translate_job"]


def record_inputs(out_dir: Path, inputs: list[Path], src_lang: str, tgt_lang: str) -> None:
    """Add the source files of a run, with their checksums, to ``out_dir/inputs.json``
    (a missing file, quarantined with ``--on-bad-record skip``, is left out)."""
    path = out_dir / "inputs.json"
    known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    for p in inputs:
        if not Path(p).is_file():
            continue
        entry = {
            "path": str(Path(p).resolve()),
            "sha256": file_sha256(Path(p)),
            "bytes": Path(p).stat().st_size,
            "direction": f"{src_lang}-{tgt_lang}",
        }
        if entry not in known:
            known.append(entry)
    write_text_atomically(path, json.dumps(known, indent=2) + "\n")


def read_summary(stats: ReadStats) -> dict[str, object]:
    """report.json's ``read``: each input's format, tag scheme, counts and normalisations."""
    files = {
        path: {
            "format": f.format,
            "scheme": f.scheme,
            "samples": f.samples,
            "entities": f.entities,
            "bad_records": f.bad_records,
            "normalised": f.normalised,
        }
        for path, f in stats.files.items()
    }
    return {"normalised": stats.normalised(), "files": files}


def check_direction(src_lang: str, tgt_lang: str) -> None:
    """ConfigError unless both are language codes (they become folder names) and differ."""
    for flag, code in (("--src-lang", src_lang), ("--tgt-lang", tgt_lang)):
        try:
            check_lang(code, flag)
        except RecordError as e:
            raise ConfigError(str(e)) from None
    if src_lang == tgt_lang:
        raise ConfigError(f"--src-lang and --tgt-lang are both {src_lang!r}")


def translate_job(
    inputs: list[Path],
    out_dir: Path,
    src_lang: str,
    tgt_lang: str,
    settings: Settings,
    *,
    limit: int | None = None,
    progress: Progress | None = None,
    record_sources: bool = True,
    summarize: bool = True,
    lock: bool = True,
    force: bool = False,
    known: Known | None = None,
    mark: bool = True,
) -> dict:
    """Translate ``inputs`` into ``out_dir`` (resuming), then write and return report.json.

    Every input is read and checked before the first request (a bad record stops the run
    before anything is paid for); ``failed`` candidates of these inputs are retried; the folder
    is locked for the run. report.json is written even when the run stops on an error.
    record_sources: add the inputs to ``inputs.json`` (the flows record the original files,
    not their shards). summarize: write report.json (the flows write one at the end).
    lock: take the folder lock (False: the caller holds it, e.g. the flow whose translate tasks
    run in other processes). force: translate even when the first samples do not read as
    ``src_lang`` (otherwise a ConfigError before any request). known: which of these samples
    the folder already holds, when the caller read it (a flow reads it once for all its
    tasks instead of each task reading every part).
    """
    if not settings.model:
        raise ConfigError("no model: pass --model or set PARALLELNER_MODEL")
    check_direction(src_lang, tgt_lang)
    partition = Partition.parse(settings.partition, "partition")
    if partition and limit is not None:
        raise ConfigError(
            f"--limit {limit} with --partition {partition}: the partition would be marked "
            "finished with only part of its samples; drop --limit (or --partition)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    command = f"parallelner translate {src_lang}-{tgt_lang}"
    if partition:
        command += f" --partition {partition}"
    tag = partition.tag if partition else None
    held = hold(out_dir, command, partition=tag) if lock else nullcontext()
    with held:
        check_folder(CandidateStore(out_dir).parts(), partition, out_dir)
        job = _TranslateJob(out_dir, src_lang, tgt_lang, settings, progress, known)

        def read(**options: object) -> Iterator[Sample]:
            samples = read_samples(
                inputs,
                src_lang,
                options=settings.read,
                limit=limit,
                **options,  # type: ignore[arg-type]
            )
            return select(samples, partition)

        try:
            job.validate(read)
        except InputError as e:
            job.report(ClientStats(), {}, summarize, f"InputError: {e}")
            raise
        verdict = check_source(job.first, src_lang)
        if verdict.wrong and not force:
            raise ConfigError(verdict.message(str(inputs[0]) if len(inputs) == 1 else "input"))
        if record_sources:
            record_inputs(out_dir, inputs, src_lang, tgt_lang)
        spec = WorkerSpec(
            inputs=[Path(p) for p in inputs],
            src_lang=src_lang,
            tgt_lang=tgt_lang,
            settings=settings,
            read={"options": settings.read, "limit": limit},
            out_dir=out_dir,
            parts_at_start=[],
        )
        report = job.run(spec, summarize)
        if partition and mark:
            mark_finished(out_dir, partition, f"{src_lang}-{tgt_lang}", job.marker_figures())
        return report


#: Below this many pending samples per worker, extra processes cost more than they give
#: (each imports the client stack: about a second); ``--workers N`` asks for N regardless.
SAMPLES_PER_WORKER = 1000


def worker_count(requested: int, pending: int, backend: str, cores: int | None = None) -> int:
    """How many translate processes a run uses: ``requested`` (0: one per core, when every
    one gets ``SAMPLES_PER_WORKER`` samples), never more than there are samples, one for
    the in-process vLLM backend (the GPU is in this process)."""
    if backend == "vllm" or pending <= 1:
        return 1
    if requested > 0:
        return max(1, min(requested, pending))
    return max(1, min(cores or os.cpu_count() or 1, pending // SAMPLES_PER_WORKER))


@dataclass
class Known:
    """What a caller already read of the folder for a run's samples: the candidate ids written
    (``done``) and those of them that are ``failed`` (retried by the run)."""

    done: set[str]
    failed: set[str]


class _TranslateJob:
    """One translate run over a locked folder: validate, retire failures, translate, report."""

    def __init__(
        self,
        out_dir: Path,
        src_lang: str,
        tgt_lang: str,
        settings: Settings,
        progress: Progress | None,
        known: Known | None = None,
    ) -> None:
        self.out_dir, self.settings, self.known = out_dir, settings, known
        self.src_lang, self.tgt_lang = src_lang, tgt_lang
        self.store = CandidateStore(out_dir)
        self.started = time.perf_counter()
        self.figures = RunFigures()
        self.cfg = translate_settings(settings, src_lang, tgt_lang)
        self.progress = progress or Progress()
        self.ids: set[str] = set()
        self.first: list[Sample] = []  # the first samples, for the source language check
        self.read: dict[str, object] = {}  # what the inputs held (read_summary)
        # what the endpoints' probe found (none when nothing was sent)
        self.structured: dict[str, object] = {
            "requested": settings.structured_output,
            "used": None,
            "note": "not probed: nothing to send",
        }

    def validate(self, read: Callable[..., Iterator[Sample]]) -> None:
        """Read every input once before any request: a bad record stops here (or, with
        ``skip``, is quarantined and counted); failed candidates of these samples are removed
        so that this run retries them."""
        stats, quarantine = ReadStats(), Quarantine(self.out_dir / "quarantine.jsonl")
        try:
            src, tgt = self.cfg.src_lang, self.cfg.tgt_lang
            policy = self.settings.on_bad_record
            for s in read(on_bad_record=policy, quarantine=quarantine, stats=stats):
                self.ids.add(Candidate.make_id(s.id, src, tgt))
                if len(self.first) < SAMPLE_SIZE:
                    self.first.append(s)
        finally:
            quarantine.close()
        self.figures.samples_read, self.figures.skipped_bad_records = stats.read, stats.skipped
        self.read = read_summary(stats)
        if self.known is None:
            self.figures.retried_failed = self.store.drop_failed(self.ids)
        elif failed := self.ids & self.known.failed:  # else no part needs reading
            self.figures.retried_failed = self.store.drop_failed(failed)
            self.known.done -= failed

    def run(self, spec: WorkerSpec, summarize: bool) -> dict:
        """Translate the samples not done yet, in this process or in worker processes."""
        spec.parts_at_start = self.store.parts()
        if self.known is None:
            done = self.store.done_ids(spec.parts_at_start)
        else:
            done = self.known.done
            spec.done = done
        self.figures.already_done = len(self.ids & done)
        pending = len(self.ids) - self.figures.already_done
        workers = worker_count(self.settings.workers, pending, self.settings.backend)
        figures, stopped = ShareFigures(), None
        try:
            if pending:
                self.settings, self.structured = resolve_structured_output(self.settings)
                spec.settings = self.settings
            if workers == 1:
                todo = share_of(read_spec(spec), done, self.tgt_lang, 0, 1)
                translate_share(todo, self.out_dir, self.cfg, self.settings, self.progress, figures)
            else:
                figures = run_pool(spec, workers, self.progress)
        except BaseException as e:
            stopped = f"{type(e).__name__}: {e}"
            figures = getattr(e, "figures", figures)
            raise
        finally:
            self.figures.translated = figures.translated
            self.figures.workers = workers
            report = self.report(figures.stats, figures.filters, summarize, stopped)
        return report

    def marker_figures(self) -> dict[str, object]:
        """What a finished partition's marker records of this run."""
        run = self.figures
        return {
            "samples": run.samples_read,
            "translated_in_last_run": run.translated,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "host": os.uname().nodename,
        }

    def report(
        self, stats: ClientStats, filters: dict[str, object], summarize: bool, stopped: str | None
    ) -> dict:
        """This run's figures (and report.json with them, when ``summarize``); ``stopped``:
        the error that ended the run early, if one did."""
        run = self.figures
        run.requests, run.cache_hits, run.retries = stats.requests, stats.cache_hits, stats.retries
        run.failed_calls, run.errors = stats.failures, dict(stats.errors)
        run.wall_seconds = time.perf_counter() - self.started
        extra: dict[str, object] = {"filters": filters, "stopped": stopped}
        extra["structured_output"] = self.structured
        if self.read:
            extra["read"] = self.read
        if not summarize:
            return {"run": asdict(run), **extra}
        try:
            return write_report(self.out_dir, run, extra)
        except (OSError, InputError):
            if stopped is None:
                raise
            return {"run": asdict(run), **extra}  # the error that stopped the run goes first


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
    stats = ClientStats()
    if not settings.filters.calls_llm:
        context = FilterContext(settings.filters)
        store.rewrite(lambda part: [context.judge(c) for c in part])
    else:
        if not settings.model:
            raise ConfigError(
                "--verify, --round-trip and --adequacy need a model: pass --model or set "
                "PARALLELNER_MODEL"
            )
        settings, structured = resolve_structured_output(settings)
        cache = open_cache(settings, out_dir)
        backend = make_backend(settings, cache)
        stats = backend.stats
        cfg = TranslateSettings(src_lang="", tgt_lang="", model=settings.model)
        context = FilterContext(settings.filters, backend=backend, translate_cfg=cfg)

        async def judge_part(part: list[Candidate]) -> list[Candidate]:
            return await gather_bounded(part, context.judge_async, settings.concurrency)

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
    run = RunFigures(command="filter", wall_seconds=time.perf_counter() - started, judged=judged)
    run.requests, run.cache_hits, run.retries = stats.requests, stats.cache_hits, stats.retries
    run.failed_calls, run.errors = stats.failures, dict(stats.errors)
    extra: dict[str, object] = {"filters": context.figures()}
    if settings.filters.calls_llm:
        extra["structured_output"] = structured
    return write_report(out_dir, run, extra)
