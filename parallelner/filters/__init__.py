"""The consistency filters: one module per family of checks, each returning a reason or None.

``FilterContext.judge`` applies them all and keeps every reason that applies; ``status`` is
``passed`` only with none. A passed candidate gets a confidence in (0, 1] from its attempts,
language score, copy share, length ratio and how well its entity pairing is confirmed, for
routing to review. ``judge_async`` adds the checks that call the LLM (verification round,
round trip) when they are switched on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, replace

from parallelner.config import FilterSettings
from parallelner.filters.adequacy import (
    LLM_METHODS,
    Adequacy,
    AdequacyCounts,
    check_adequacy,
    factor,
    free_checks,
)
from parallelner.filters.alignment import ENTITY_MISALIGNED, Alignment, check_alignment
from parallelner.filters.copying import UNTRANSLATED, copy_share
from parallelner.filters.entities import check_entities
from parallelner.filters.language import LanguageCounts, check_language
from parallelner.filters.length import band, length_ratio, length_reason
from parallelner.filters.verification import AGREE, DISAGREE, Verification, verify_alignment
from parallelner.llm.backend import ChatBackend
from parallelner.records import Candidate
from parallelner.translation.prompts import load_alignment_prompt
from parallelner.translation.recovery import confidence_factor
from parallelner.translation.reply import MalformedReply, parse_reply
from parallelner.translation.translate import EMPTY, MALFORMED_REPLY, TranslateSettings

#: Every reason code a candidate can carry, in the order docs/filters.md documents them.
REASONS = (
    "wrong_language",
    "untranslated",
    "entity_missing",
    "entity_not_found",
    "entity_overlap",
    "label_count_mismatch",
    "entity_misaligned",
    "length_ratio",
    "empty",
    "malformed_reply",
    "round_trip",
    "llm_error",
)


@dataclass(frozen=True)
class Scores:
    """What a candidate's confidence is made of: the language score, the copied trigram share,
    the length ratio and its band, the alignment check's finding."""

    language: float
    copied: float
    ratio: float
    band: tuple[float, float]
    alignment: Alignment


def confidence(
    attempts: int,
    scores: Scores,
    alignment_factor: float | None = None,
    projection: tuple[str | None, ...] = (),
) -> float:
    """How much a passed candidate can be trusted without review: 1.0 is a first-attempt reply
    with a clear language, no copying, a length ratio well inside its band, an entity
    pairing that evidence confirms (``alignment_factor`` overrides the check's factor, as
    when the verification round confirmed the pairing) and every entity found as the model
    wrote it (``projection``: a recovered one scales it by ``recovery.FACTOR``)."""
    factor = scores.alignment.factor if alignment_factor is None else alignment_factor
    score = max(0.5, min(1.0, scores.language)) * factor * confidence_factor(projection)
    score *= 0.85 ** max(0, attempts - 1)
    score *= 1.0 - scores.copied / 2
    lo, hi = scores.band
    if not lo * 1.25 <= scores.ratio <= hi / 1.25:
        score *= 0.85
    return round(score, 4)


@dataclass
class VerifyCounts:
    """The verification round's outcomes and cost, reported apart from the translation's."""

    calls: int = 0
    agree: int = 0
    disagree: int = 0
    unknown: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, v: Verification) -> None:
        self.calls += 1
        setattr(self, v.outcome, getattr(self, v.outcome) + 1)
        self.failed += v.failed
        self.prompt_tokens += v.prompt_tokens
        self.completion_tokens += v.completion_tokens


class FilterContext:
    """The filters with their thresholds and counts; optionally the backend for round trips."""

    def __init__(
        self,
        settings: FilterSettings,
        backend: ChatBackend | None = None,
        translate_cfg: TranslateSettings | None = None,
    ) -> None:
        self.settings = settings
        self._by_pair: dict[str, FilterSettings] = {}
        self.backend = backend
        self.translate_cfg = translate_cfg
        self.language = LanguageCounts()
        self.alignment: Counter[str] = Counter()
        self.verify = VerifyCounts()
        self.round_trips = 0
        self.adequacy = AdequacyCounts(settings.adequacy)

    def judge(self, c: Candidate) -> Candidate:
        """``c`` with the reasons of every check that fails it (a failed call stays failed),
        and the free adequacy checks (``--adequacy checks``) on a passed one."""
        c = self._judge(c)[0]
        if c.status == "passed" and self.settings.adequacy == "checks":
            return self._scaled(c, free_checks(c))
        return c

    def _judge(self, c: Candidate) -> tuple[Candidate, Scores | None]:
        if c.status == "failed":
            return c, None
        try:
            parse_reply(c.raw_reply, len(c.src_entities))
        except MalformedReply:
            return c.with_verdict((MALFORMED_REPLY,), None), None
        if not c.tgt_text.strip():
            return c.with_verdict((EMPTY,), None), None
        pair = f"{c.src_lang}-{c.tgt_lang}"
        s = self._by_pair.get(pair) or self._by_pair.setdefault(pair, self.settings.for_pair(pair))
        lang_reason, lang_score = check_language(
            c, self.language, s.min_language_share, s.langdetect_min_prob
        )
        copied, ratio = copy_share(c), length_ratio(c)
        lo, hi = band(c.src_lang, c.tgt_lang, s.min_length_ratio, s.max_length_ratio)
        reasons = {
            lang_reason,
            UNTRANSLATED if copied > s.untranslated_overlap else None,
            length_reason(c, ratio, lo, hi),
            *check_entities(c),
        }
        alignment = check_alignment(c)
        if len(c.src_entities) >= 2:
            self.alignment[alignment.state] += 1
        reasons.add(alignment.reason)
        found = tuple(sorted(r for r in reasons if r))
        if found:
            return c.with_verdict(found, None), None
        scores = Scores(lang_score, copied, ratio, (lo, hi), alignment)
        return c.with_verdict((), confidence(c.attempts, scores, projection=c.projection)), scores

    async def judge_async(self, c: Candidate) -> Candidate:
        """judge, then (when switched on) the verification round for passed candidates with
        two or more entities, the round trip and the adequacy check for those still passing
        (a back-translation both need is made once)."""
        c, scores = self._judge(c)
        if self.settings.verify and scores is not None and len(c.src_entities) >= 2:
            c = await self._verify(c, scores)
        if c.status != "passed":
            return c
        back = None
        if self.settings.adequacy != "off":
            c, back = await self._adequacy(c)
        if not self.settings.round_trip:
            return c
        backend, cfg = self._llm("round_trip")
        from parallelner.filters.round_trip import check_round_trip

        self.round_trips += 1
        reason, prompt_tokens, completion_tokens = await check_round_trip(c, backend, cfg, back)
        c = replace(
            c,
            prompt_tokens=c.prompt_tokens + prompt_tokens,
            completion_tokens=c.completion_tokens + completion_tokens,
        )
        return c.with_verdict((reason,), None) if reason else c

    async def _adequacy(self, c: Candidate) -> tuple[Candidate, Candidate | None]:
        """``c`` with its confidence scaled by its adequacy (``adequacy.factor``), and the
        back-translation the round-trip method made."""
        method = self.settings.adequacy
        llm = self._llm("adequacy") if method in LLM_METHODS else (None, None)
        a = await check_adequacy(c, method, *llm)
        return self._scaled(c, a), a.back

    def _scaled(self, c: Candidate, a: Adequacy) -> Candidate:
        """``c`` with its confidence scaled by ``a`` and the tokens ``a`` cost (counted)."""
        self.adequacy.add(a, self.settings.min_adequacy)
        scale = factor(a, self.settings.adequacy, self.settings.min_adequacy)
        return replace(
            c,
            prompt_tokens=c.prompt_tokens + a.prompt_tokens,
            completion_tokens=c.completion_tokens + a.completion_tokens,
            confidence=round((c.confidence or 0.0) * scale, 4),
        )

    async def _verify(self, c: Candidate, scores: Scores) -> Candidate:
        backend, cfg = self._llm("verify")
        v = await verify_alignment(c, backend, cfg.model, load_alignment_prompt())
        self.verify.add(v)
        c = replace(
            c,
            prompt_tokens=c.prompt_tokens + v.prompt_tokens,
            completion_tokens=c.completion_tokens + v.completion_tokens,
        )
        if v.outcome == DISAGREE:
            return c.with_verdict((ENTITY_MISALIGNED,), None)
        if v.outcome == AGREE:  # the pairing is checked now, whatever the signals could tell
            verified = confidence(c.attempts, scores, 1.0, c.projection)
            return c.with_verdict((), verified)
        return c

    def _llm(self, check: str) -> tuple[ChatBackend, TranslateSettings]:
        if self.backend is None or self.translate_cfg is None:
            raise RuntimeError(f"{check} needs a backend")
        return self.backend, self.translate_cfg

    def figures(self) -> dict[str, object]:
        """Counts for report.json: thresholds, language checks and langdetect calls saved,
        alignment findings (samples with two or more entities), the verification round."""
        checks, calls = self.language.checks, self.language.langdetect_calls
        return {
            "settings": asdict(self.settings),
            "language_checks": checks,
            "langdetect_calls": calls,
            "langdetect_saved": checks - calls,
            "language_unknown": self.language.unknown,
            "alignment": dict(sorted(self.alignment.items())),
            "verify": asdict(self.verify),
            "round_trips": self.round_trips,
            "adequacy": self.adequacy.figures(),
        }
