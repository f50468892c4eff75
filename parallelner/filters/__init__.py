"""The consistency filters: one module per family of checks, each returning a reason or None.

``FilterContext.judge`` applies them all and keeps every reason that applies; ``status`` is
``passed`` only with none. A passed candidate gets a confidence in (0, 1] from its attempts,
language score, copy share and length ratio, for routing to review.
"""

from __future__ import annotations

from dataclasses import asdict, replace

from parallelner.config import FilterSettings
from parallelner.filters.copying import check_untranslated, copy_share
from parallelner.filters.entities import check_entities
from parallelner.filters.language import LanguageCounts, check_language
from parallelner.filters.length import band, check_length, length_ratio
from parallelner.llm.client import ChatBackend
from parallelner.records import Candidate
from parallelner.reply import MalformedReply, parse_reply
from parallelner.translate import EMPTY, MALFORMED_REPLY, TranslateSettings

#: Every reason code a candidate can carry, in the order the README documents them.
REASONS = (
    "wrong_language",
    "untranslated",
    "entity_missing",
    "entity_not_found",
    "entity_overlap",
    "label_count_mismatch",
    "length_ratio",
    "empty",
    "malformed_reply",
    "round_trip",
    "llm_error",
)


def confidence(c: Candidate, language_score: float, lo: float, hi: float) -> float:
    """How much a passed candidate can be trusted without review: 1.0 is a first-attempt reply
    with a clear language, no copying and a length ratio well inside its band."""
    score = max(0.5, min(1.0, language_score))
    score *= 0.85 ** max(0, c.attempts - 1)
    score *= 1.0 - copy_share(c) / 2
    ratio = length_ratio(c)
    if not lo * 1.25 <= ratio <= hi / 1.25:
        score *= 0.85
    return round(score, 4)


class FilterContext:
    """The filters with their thresholds and counts; optionally the backend for round trips."""

    def __init__(
        self,
        settings: FilterSettings,
        backend: ChatBackend | None = None,
        translate_cfg: TranslateSettings | None = None,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.translate_cfg = translate_cfg
        self.language = LanguageCounts()
        self.round_trips = 0

    def judge(self, c: Candidate) -> Candidate:
        """``c`` with the reasons of every check that fails it (a failed call stays failed)."""
        if c.status == "failed":
            return c
        try:
            parse_reply(c.raw_reply, len(c.src_entities))
        except MalformedReply:
            return c.with_verdict((MALFORMED_REPLY,), None)
        if not c.tgt_text.strip():
            return c.with_verdict((EMPTY,), None)
        s = self.settings
        lang_reason, lang_score = check_language(
            c, self.language, s.min_language_share, s.langdetect_min_prob
        )
        reasons = {lang_reason, check_untranslated(c, s.untranslated_overlap)}
        reasons.update(check_entities(c))
        reasons.add(check_length(c, s.min_length_ratio, s.max_length_ratio))
        found = tuple(sorted(r for r in reasons if r))
        lo, hi = band(c.src_lang, c.tgt_lang, s.min_length_ratio, s.max_length_ratio)
        return c.with_verdict(found, None if found else confidence(c, lang_score, lo, hi))

    async def judge_async(self, c: Candidate) -> Candidate:
        """judge, then the round trip for candidates that passed (when switched on)."""
        c = self.judge(c)
        if not (self.settings.round_trip and c.status == "passed"):
            return c
        if self.backend is None or self.translate_cfg is None:
            raise RuntimeError("round_trip needs a backend")
        from parallelner.filters.round_trip import check_round_trip

        self.round_trips += 1
        reason, prompt_tokens, completion_tokens = await check_round_trip(
            c, self.backend, self.translate_cfg
        )
        c = replace(
            c,
            prompt_tokens=c.prompt_tokens + prompt_tokens,
            completion_tokens=c.completion_tokens + completion_tokens,
        )
        return c.with_verdict((reason,), None) if reason else c

    def figures(self) -> dict[str, object]:
        """Counts for report.json: thresholds, language checks and langdetect calls saved."""
        checks, calls = self.language.checks, self.language.langdetect_calls
        return {
            "settings": asdict(self.settings),
            "language_checks": checks,
            "langdetect_calls": calls,
            "langdetect_saved": checks - calls,
            "round_trips": self.round_trips,
        }
