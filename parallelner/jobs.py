"""Whole jobs over an output folder, shared by the CLI and the Prefect flows.

``translate_job``: read -> translate + project -> filter -> candidate parts + report.json,
resuming where an earlier run over the same folder stopped. ``filter_job``: re-judge the parts
with new thresholds, without calling the LLM.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from parallelner.atomic import write_text_atomically
from parallelner.candidate_store import CandidateStore
from parallelner.checksums import file_sha256
from parallelner.config import Settings
from parallelner.errors import ConfigError, InputError
from parallelner.filters import FilterContext
from parallelner.llm.backend import ChatBackend, ClientStats
from parallelner.llm.cache import ResponseCache
from parallelner.locks import hold
from parallelner.prompts import load_prompts
from parallelner.readers import Format, Quarantine, ReadStats, read_samples
from parallelner.records import Candidate, RecordError, Sample, check_lang
from parallelner.report import RunFigures, write_report
from parallelner.translate import TranslateSettings, translate


@dataclass
class Progress:
    """Running counts a progress bar shows; ``on_candidate`` is called after each one."""

    done: int = 0
    by_status: dict[str, int] = field(
        default_factory=lambda: {"passed": 0, "rejected": 0, "failed": 0}
    )
    on_candidate: Callable[[Progress], None] | None = None
    requests: Callable[[], int] | None = None  # requests sent so far, set by the job

    def add(self, candidate: Candidate) -> None:
        self.done += 1
        self.by_status[candidate.status] += 1
        if self.on_candidate:
            self.on_candidate(self)


def open_cache(settings: Settings, out_dir: Path) -> ResponseCache | None:
    """The response cache the settings name (None when ``cache = "off"``)."""
    path = settings.cache_path(out_dir)
    return ResponseCache(path) if path else None


def make_backend(settings: Settings, cache: ResponseCache | None) -> ChatBackend:
    """The chat backend the settings ask for: HTTP endpoints, or vLLM in this process."""
    if settings.backend == "vllm":
        from parallelner.llm.vllm_engine import VLLMEngineClient

        return VLLMEngineClient(settings.model, cache=cache)
    if settings.backend != "openai":
        raise ConfigError(f"--backend: {settings.backend!r} is not 'openai' or 'vllm'")
    from parallelner.llm.client import ChatClient  # imports openai: only a run that calls it

    return ChatClient(
        settings.base_urls,
        settings.api_key,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        cache=cache,
    )


def _skip_done(
    samples: Iterable[Sample], done: set[str], tgt: str, run: RunFigures
) -> Iterator[Sample]:
    for sample in samples:
        if Candidate.make_id(sample.id, sample.lang, tgt) in done:
            run.already_done += 1
        else:
            yield sample


async def _translate_into(
    samples: Iterable[Sample],
    backend: ChatBackend,
    cfg: TranslateSettings,
    context: FilterContext,
    store: CandidateStore,
    rows_per_part: int,
    progress: Progress,
) -> int:
    prompts = load_prompts()
    written = 0
    with store.writer(rows_per_part) as writer:
        async for candidate in translate(samples, backend, prompts, cfg):
            candidate = await context.judge_async(candidate)
            writer.add(candidate)
            progress.add(candidate)
            written += 1
    return written


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
    fmt: Format = "auto",
    strict: bool = True,
    label_names: list[str] | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    record_sources: bool = True,
    summarize: bool = True,
) -> dict:
    """Translate ``inputs`` into ``out_dir`` (resuming), then write and return report.json.

    Every input is read and checked before the first request (a bad record stops the run
    before anything is paid for); ``failed`` candidates of these inputs are retried; the folder
    is locked for the run. report.json is written even when the run stops on an error.
    record_sources: add the inputs to ``inputs.json`` (the flows record the original files,
    not their shards). summarize: write report.json (the flows write one at the end).
    """
    if not settings.model:
        raise ConfigError("no model: pass --model or set PARALLELNER_MODEL")
    check_direction(src_lang, tgt_lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    with hold(out_dir, f"parallelner translate {src_lang}-{tgt_lang}"):
        job = _TranslateJob(out_dir, src_lang, tgt_lang, settings, progress)
        read = partial(
            read_samples,
            inputs,
            src_lang,
            fmt=fmt,
            strict=strict,
            label_names=label_names,
            limit=limit,
        )
        try:
            job.validate(read)
        except InputError as e:
            job.report(ClientStats(), {}, summarize, f"InputError: {e}")
            raise
        if record_sources:
            record_inputs(out_dir, inputs, src_lang, tgt_lang)
        return job.run(read(on_bad_record="skip", stats=ReadStats()), summarize)


class _TranslateJob:
    """One translate run over a locked folder: validate, retire failures, translate, report."""

    def __init__(
        self,
        out_dir: Path,
        src_lang: str,
        tgt_lang: str,
        settings: Settings,
        progress: Progress | None,
    ) -> None:
        self.out_dir, self.settings = out_dir, settings
        self.store = CandidateStore(out_dir)
        self.started = time.perf_counter()
        self.figures = RunFigures()
        self.cfg = TranslateSettings(
            src_lang=src_lang,
            tgt_lang=tgt_lang,
            model=settings.model,
            escalate_model=settings.escalate_model or None,
            max_attempts=settings.max_attempts,
            concurrency=settings.concurrency,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
        )
        self.progress = progress or Progress()

    def validate(self, read: Callable[..., Iterator[Sample]]) -> None:
        """Read every input once before any request: a bad record stops here (or, with
        ``skip``, is quarantined and counted); failed candidates of these samples are removed
        so that this run retries them."""
        stats, quarantine = ReadStats(), Quarantine(self.out_dir / "quarantine.jsonl")
        try:
            src, tgt = self.cfg.src_lang, self.cfg.tgt_lang
            ids = {
                Candidate.make_id(s.id, src, tgt)
                for s in read(
                    on_bad_record=self.settings.on_bad_record, quarantine=quarantine, stats=stats
                )
            }
        finally:
            quarantine.close()
        self.figures.samples_read, self.figures.skipped_bad_records = stats.read, stats.skipped
        self.figures.retried_failed = self.store.drop_failed(ids)

    def run(self, samples: Iterable[Sample], summarize: bool) -> dict:
        cache = open_cache(self.settings, self.out_dir)
        backend = make_backend(self.settings, cache)
        context = FilterContext(self.settings.filters, backend=backend, translate_cfg=self.cfg)
        self.progress.requests = lambda: backend.stats.requests
        stopped: str | None = None

        async def main() -> int:
            try:
                pending = _skip_done(
                    samples, self.store.done_ids(), self.cfg.tgt_lang, self.figures
                )
                return await _translate_into(
                    pending,
                    backend,
                    self.cfg,
                    context,
                    self.store,
                    self.settings.rows_per_part,
                    self.progress,
                )
            finally:
                await backend.aclose()

        try:
            self.figures.translated = asyncio.run(main())
        except BaseException as e:
            stopped = f"{type(e).__name__}: {e}"
            raise
        finally:
            if cache is not None:
                cache.close()
            report = self.report(backend.stats, context.figures(), summarize, stopped)
        return report

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
    store.check_unique()
    if not (settings.filters.round_trip or settings.filters.verify):
        context = FilterContext(settings.filters)
        store.rewrite(lambda part: [context.judge(c) for c in part])
    else:
        if not settings.model:
            raise ConfigError(
                "verify and round_trip need a model: pass --model or set PARALLELNER_MODEL"
            )
        cache = open_cache(settings, out_dir)
        backend = make_backend(settings, cache)
        cfg = TranslateSettings(src_lang="", tgt_lang="", model=settings.model)
        context = FilterContext(settings.filters, backend=backend, translate_cfg=cfg)

        async def judge_part(part: list[Candidate]) -> list[Candidate]:
            return list(await asyncio.gather(*(context.judge_async(c) for c in part)))

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
    run = RunFigures(wall_seconds=time.perf_counter() - started)
    return write_report(out_dir, run, {"filters": context.figures()})
