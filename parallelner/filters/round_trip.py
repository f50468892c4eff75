"""``round_trip`` (off by default: it doubles LLM cost): back-translate the target and check
that every source entity comes back. Same reply contract, so the client and cache serve it."""

from __future__ import annotations

import unicodedata

from parallelner.filters.base import LLMAccess
from parallelner.reasons import ROUND_TRIP
from parallelner.records import Candidate, Span


def _same(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return "".join(unicodedata.normalize("NFKC", s).casefold().split())

    return norm(a) == norm(b)


async def check_round_trip(
    c: Candidate, llm: LLMAccess, back: Candidate | None = None
) -> tuple[str | None, int, int]:
    """``round_trip`` or None, and the tokens the back-translation cost (``back``: one
    already made, by the adequacy check; its tokens are then counted there)."""
    spans = tuple(s for s in c.tgt_entities if s is not None)
    made = back is None
    back = back or await llm.back_translate(c)
    tokens = (back.prompt_tokens, back.completion_tokens) if made else (0, 0)
    if len(back.src_entities) != len(spans):  # the target's spans were not a valid sample
        return ROUND_TRIP, *tokens
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
