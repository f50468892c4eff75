"""One process's share of a translate run: its own event loop, chat client, cache connection
and part writer over the samples it is handed (the whole run in one process, or one worker's
share of it, see ``pool``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from parallelner.config import Settings
from parallelner.errors import ConfigError
from parallelner.filters import FilterContext
from parallelner.llm.backend import ChatBackend, ClientStats
from parallelner.llm.cache import ResponseCache
from parallelner.records import Candidate, Sample
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.gc_pacing import paced_gc
from parallelner.run.partitions import Partition
from parallelner.translation.prompts import load_prompts
from parallelner.translation.translate import TranslateSettings, translate


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


@dataclass
class ShareFigures:
    """What a share did: candidates written, its client's counts, its filters' counts."""

    translated: int = 0
    stats: ClientStats = field(default_factory=ClientStats)
    filters: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"translated": self.translated, "stats": asdict(self.stats), "filters": self.filters}

    @classmethod
    def from_dict(cls, data: dict) -> ShareFigures:
        return cls(data["translated"], ClientStats(**data["stats"]), data["filters"])


def open_cache(settings: Settings, out_dir: Path) -> ResponseCache | None:
    """The response cache the settings name (None when ``cache`` is "off" or "none")."""
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
        connections=settings.concurrency,
        # "auto" left unresolved (no probe ran, e.g. nothing to send): the best mode
        structured_output=settings.structured_output.replace("auto", "json_schema"),
    )


def resolve_structured_output(settings: Settings) -> tuple[Settings, dict[str, object]]:
    """``settings`` with the structured-output mode every endpoint takes, found by one short
    probe request to each (EndpointError, one line, for one that is down, silent or wrong),
    and what the probe found, for report.json."""
    if settings.backend != "openai":
        note = "in-process vLLM decodes to the schema itself"
        return settings, {
            "requested": settings.structured_output,
            "used": "json_schema",
            "note": note,
        }
    from parallelner.llm.probe import probe  # imports openai: only a run that calls it

    result = probe(
        settings.base_urls,
        settings.api_key,
        settings.model,
        settings.structured_output,
        settings.timeout,
    )
    return replace(settings, structured_output=result.used), result.as_dict()


def translate_settings(settings: Settings, src_lang: str, tgt_lang: str) -> TranslateSettings:
    return TranslateSettings(
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        model=settings.model,
        escalate_model=settings.escalate_model or None,
        max_attempts=settings.max_attempts,
        recover=settings.recover,
        concurrency=settings.concurrency,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
    )


def translate_share(
    samples: Iterable[Sample],
    out_dir: Path,
    cfg: TranslateSettings,
    settings: Settings,
    progress: Progress,
    figures: ShareFigures,
) -> None:
    """Translate, project and judge ``samples`` (none of them done yet) into new parts of
    ``out_dir``; ``figures`` is filled as it goes, so it holds the counts even when this
    raises (an unreachable endpoint, an interrupt)."""
    cache = open_cache(settings, out_dir)
    backend = make_backend(settings, cache)
    figures.stats = backend.stats
    context = FilterContext(settings.filters, backend=backend, translate_cfg=cfg)
    progress.requests = lambda: backend.stats.requests
    prompts = load_prompts()

    async def main() -> None:
        try:
            tag = partition.tag if (partition := Partition.parse(settings.partition)) else ""
            with CandidateStore(out_dir).writer(settings.rows_per_part, tag) as writer:
                judged = translate(samples, backend, prompts, cfg, then=context.judge_async)
                async for candidate in judged:
                    writer.add(candidate)
                    progress.add(candidate)
                    figures.translated += 1
        finally:
            await backend.aclose()

    try:
        with paced_gc():
            asyncio.run(main())
    finally:
        figures.filters = context.figures()
        if cache is not None:
            cache.close()
