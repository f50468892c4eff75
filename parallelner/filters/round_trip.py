"""``round_trip`` (off by default: it doubles LLM cost): back-translate the target and check
that every source entity comes back. Same reply contract, so the client and cache serve it."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from parallelner.llm.backend import ChatBackend
from parallelner.prompts import load_prompts
from parallelner.records import Candidate, RecordError, Sample, Span
from parallelner.translate import TranslateSettings, translate_sample

ROUND_TRIP = "round_trip"


def _same(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return "".join(unicodedata.normalize("NFKC", s).casefold().split())

    return norm(a) == norm(b)


async def check_round_trip(
    c: Candidate, backend: ChatBackend, cfg: TranslateSettings
) -> tuple[str | None, int, int]:
    """``round_trip`` or None, and the tokens the back-translation cost."""
    spans = tuple(s for s in c.tgt_entities if s is not None)
    try:
        sample = Sample(c.source_id, c.tgt_lang, c.tgt_text, spans)
    except RecordError:
        return ROUND_TRIP, 0, 0
    back_cfg = replace(cfg, src_lang=c.tgt_lang, tgt_lang=c.src_lang, escalate_model=None)
    back = await translate_sample(sample, backend, load_prompts(), back_cfg)
    tokens = (back.prompt_tokens, back.completion_tokens)
    if back.status != "passed":
        return ROUND_TRIP, *tokens
    # back.src_entities are sorted like c.src_entities' projections; compare in that order.
    by_start = sorted(range(len(spans)), key=lambda k: (spans[k].start, spans[k].end))
    originals = [s for s in c.src_entities if s is not None]
    placed_src = [originals[i] for i, t in enumerate(c.tgt_entities) if t is not None]
    for rank, k in enumerate(by_start):
        returned: Span | None = back.tgt_entities[rank]
        if returned is None or not _same(returned.text, placed_src[k].text):
            return ROUND_TRIP, *tokens
    return None, *tokens
