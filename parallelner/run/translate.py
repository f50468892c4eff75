"""The translate step: the samples not done yet, translated, projected and judged into new
candidate parts, in this process or in worker processes (``run.pool``). One process's share of
a run has its own event loop, chat client, cache connection and part writer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from parallelner.config import Settings
from parallelner.filters.base import LLMAccess
from parallelner.filters.judge import Judge
from parallelner.glossary.entries import glossary_of
from parallelner.llm.backend import ChatBackend, ClientStats
from parallelner.llm.prompts import load_prompts
from parallelner.records import Sample
from parallelner.run.backend import make_backend, open_cache
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.gc_pacing import paced_gc
from parallelner.run.partitions import Partition
from parallelner.run.progress import Progress
from parallelner.translation.translate import TranslateSettings, back_translate, translate


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


def translate_settings(settings: Settings, src_lang: str, tgt_lang: str) -> TranslateSettings:
    """What the translate stage needs of the run's settings, for one direction."""
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
        glossary=glossary_of(settings.glossary),
    )


def llm_access(backend: ChatBackend, cfg: TranslateSettings) -> LLMAccess:
    """What the checks that call the LLM get: this run's backend and model, and the
    back-translation of the translate stage (same prompt, client and cache)."""
    return LLMAccess(backend, cfg.model, partial(back_translate, client=backend, cfg=cfg))


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
    judge = Judge(settings.filters, llm_access(backend, cfg), glossary=cfg.glossary)
    progress.requests = lambda: backend.stats.requests
    prompts = load_prompts()

    async def main() -> None:
        try:
            tag = partition.tag if (partition := Partition.parse(settings.partition)) else ""
            with CandidateStore(out_dir).writer(settings.rows_per_part, tag) as writer:
                judged = translate(samples, backend, prompts, cfg, then=judge.judge_async)
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
        figures.filters = judge.figures()
        if cache is not None:
            cache.close()
