"""Entity checks: every source entity has a projection, at its offsets, on a span of its own,
and the per-label counts agree.

Reasons: ``entity_missing`` (no surface form given), ``entity_not_found`` (a form that is not in
the translation, or a projection whose offsets do not hold its text), ``entity_overlap`` (two
projections on one span), ``label_count_mismatch``.
"""

from __future__ import annotations

from collections import Counter

from parallelner.config import FilterSettings
from parallelner.filters.base import Check, Verdict
from parallelner.llm.reply import MalformedReply, parse_reply
from parallelner.reasons import (
    ENTITY_MISSING,
    ENTITY_NOT_FOUND,
    ENTITY_OVERLAP,
    LABEL_COUNT_MISMATCH,
)
from parallelner.records import Candidate
from parallelner.text.projection import locate_entities


def _projection_reasons(c: Candidate) -> set[str]:
    """Why projections are absent, re-derived from the raw reply when there is one."""
    if all(s is not None for s in c.tgt_entities):
        return set()
    try:
        reply = parse_reply(c.raw_reply, len(c.src_entities))
    except MalformedReply:
        return {ENTITY_MISSING}
    located = locate_entities(c.tgt_text, list(reply.surfaces))
    reasons = {
        x for x, s in zip(located, c.tgt_entities, strict=True) if s is None and isinstance(x, str)
    }
    return reasons or {ENTITY_MISSING}


def check_entities(c: Candidate) -> list[str]:
    """The entity reasons that apply to ``c`` (several may)."""
    reasons = _projection_reasons(c)
    placed = [s for s in c.tgt_entities if s is not None]
    if any(c.tgt_text[s.start : s.end] != s.text for s in placed):
        reasons.add(ENTITY_NOT_FOUND)
    ordered = sorted(placed, key=lambda s: (s.start, s.end))
    if any(a.overlaps(b) for a, b in zip(ordered, ordered[1:], strict=False)):
        reasons.add(ENTITY_OVERLAP)
    if Counter(s.label for s in c.src_entities) != Counter(s.label for s in placed):
        reasons.add(LABEL_COUNT_MISMATCH)
    return sorted(reasons)


class EntitiesCheck(Check):
    """Every source entity projected, at its offsets, on a span of its own, label counts
    equal."""

    name = "entities"
    reasons = (ENTITY_MISSING, ENTITY_NOT_FOUND, ENTITY_OVERLAP, LABEL_COUNT_MISMATCH)

    def check(self, c: Candidate, thresholds: FilterSettings) -> Verdict:
        return Verdict(tuple(check_entities(c)))
