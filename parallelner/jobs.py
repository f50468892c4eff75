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
from pathlib import Path

from parallelner.atomic import write_text_atomically
from parallelner.candidate_store import CandidateStore
from parallelner.checksums import file_sha256
from parallelner.config import Settings
from parallelner.errors import ConfigError
from parallelner.filters import FilterContext
from parallelner.llm.cache import ResponseCache
from parallelner.llm.client import ChatBackend, ChatClient
from parallelner.prompts import load_prompts
from parallelner.readers import Format, Quarantine, ReadStats, read_samples
from parallelner.records import Candidate, Sample
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
    """Add the source files of a run, with their checksums, to ``out_dir/inputs.json``."""
    path = out_dir / "inputs.json"
    known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    for p in inputs:
        entry = {
            "path": str(Path(p).resolve()),
            "sha256": file_sha256(Path(p)),
            "bytes": Path(p).stat().st_size,
            "direction": f"{src_lang}-{tgt_lang}",
        }
        if entry not in known:
            known.append(entry)
    write_text_atomically(path, json.dumps(known, indent=2) + "\n")


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

    record_sources: add the inputs to ``inputs.json`` (the flows record the original files,
    not their shards). summarize: write report.json (the flows write one at the end).
    """
    if not settings.model:
        raise ConfigError("no model: pass --model or set PARALLELNER_MODEL")
    if src_lang == tgt_lang:
        raise ConfigError(f"--src-lang and --tgt-lang are both {src_lang!r}")
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    store = CandidateStore(out_dir)
    run = RunFigures()
    read_stats = ReadStats()
    quarantine = Quarantine(out_dir / "quarantine.jsonl")
    samples = read_samples(
        inputs,
        src_lang,
        fmt=fmt,
        on_bad_record=settings.on_bad_record,  # type: ignore[arg-type]
        quarantine=quarantine,
        strict=strict,
        label_names=label_names,
        limit=limit,
        stats=read_stats,
    )
    cfg = TranslateSettings(
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        model=settings.model,
        escalate_model=settings.escalate_model or None,
        max_attempts=settings.max_attempts,
        concurrency=settings.concurrency,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
    )
    cache = open_cache(settings, out_dir)
    backend = make_backend(settings, cache)
    context = FilterContext(settings.filters, backend=backend, translate_cfg=cfg)
    progress = progress or Progress()
    progress.requests = lambda: backend.stats.requests

    async def main() -> int:
        try:
            pending = _skip_done(samples, store.done_ids(), tgt_lang, run)
            return await _translate_into(
                pending, backend, cfg, context, store, settings.rows_per_part, progress
            )
        finally:
            await backend.aclose()

    try:
        run.translated = asyncio.run(main())
    finally:
        quarantine.close()
        if cache is not None:
            cache.close()
    if record_sources:
        record_inputs(out_dir, inputs, src_lang, tgt_lang)
    stats = backend.stats
    run.samples_read, run.skipped_bad_records = read_stats.read, read_stats.skipped
    run.requests, run.cache_hits, run.retries = stats.requests, stats.cache_hits, stats.retries
    run.failed_calls, run.errors = stats.failures, dict(stats.errors)
    run.wall_seconds = time.perf_counter() - started
    if not summarize:
        return {"run": asdict(run), "filters": context.figures()}
    return write_report(out_dir, run, {"filters": context.figures()})


def filter_job(out_dir: Path, settings: Settings) -> dict:
    """Re-run the filters over ``out_dir``'s candidates with ``settings.filters``.

    No LLM call is made, except for the verification round and the round trip when they are
    switched on (answered from the response cache where the same call was made before).
    """
    started = time.perf_counter()
    store = CandidateStore(out_dir)
    if not store.parts():
        raise ConfigError(f"{out_dir}: no candidates/part-*.parquet to filter")
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

        asyncio.run(main())
        if cache is not None:
            cache.close()
    run = RunFigures(wall_seconds=time.perf_counter() - started)
    return write_report(out_dir, run, {"filters": context.figures()})
