"""The judge: runs the registered checks over a candidate, keeps every reason that applies
(``status`` is ``passed`` only with none) and a named counter per check and reason, and gives a
passed candidate its confidence (``filters.confidence``). ``judge_async`` adds the checks that
call the LLM (verification round, adequacy, round trip) when they are switched on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
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
from parallelner.filters.base import Check, CheckContext, LLMAccess, Verdict
from parallelner.filters.checks import CHECKS
from parallelner.filters.confidence import Scores, confidence
from parallelner.filters.verification import AGREE, DISAGREE, Verification, verify_alignment
from parallelner.glossary.entries import Glossary
from parallelner.llm.prompts import load_alignment_prompt
from parallelner.reasons import ENTITY_MISALIGNED
from parallelner.records import Candidate


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


class Judge:
    """The checks with their thresholds and counts; ``llm`` for the checks that call it."""

    def __init__(
        self,
        settings: FilterSettings,
        llm: LLMAccess | None = None,
        checks: Sequence[type[Check]] = CHECKS,
        glossary: Glossary | None = None,
    ) -> None:
        self.settings = settings
        self.llm = llm
        context = CheckContext(glossary) if glossary is not None else CheckContext()
        self.checks = [make(context) for make in checks]
        #: ``judged`` -> candidates judged, ``check:reason`` -> those the check gave it
        self.counts: Counter[str] = Counter()
        self._by_pair: dict[str, FilterSettings] = {}
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

    def _thresholds(self, c: Candidate) -> FilterSettings:
        pair = f"{c.src_lang}-{c.tgt_lang}"
        found = self._by_pair.get(pair)
        if found is None:
            found = self._by_pair[pair] = self.settings.for_pair(pair)
        return found

    def _judge(self, c: Candidate) -> tuple[Candidate, Scores | None]:
        if c.status == "failed":
            return c, None
        thresholds = self._thresholds(c)
        self.counts["judged"] += 1
        verdicts: dict[str, Verdict] = {}
        reasons: set[str] = set()
        for check in self.checks:
            verdict = verdicts[check.name] = check.check(c, thresholds)
            if verdict.reasons:
                for reason in verdict.reasons:
                    self.counts[f"{check.name}:{reason}"] += 1
                reasons.update(verdict.reasons)
                if check.gate:
                    break
        if reasons:
            return c.with_verdict(tuple(sorted(reasons)), None), None
        scores = Scores.of(verdicts)
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
        from parallelner.filters.round_trip import check_round_trip

        self.round_trips += 1
        reason, prompt_tokens, completion_tokens = await check_round_trip(
            c, self._llm("round_trip"), back
        )
        c = _with_tokens(c, prompt_tokens, completion_tokens)
        return c.with_verdict((reason,), None) if reason else c

    async def _adequacy(self, c: Candidate) -> tuple[Candidate, Candidate | None]:
        """``c`` with its confidence scaled by its adequacy (``adequacy.factor``), and the
        back-translation the round-trip method made."""
        method = self.settings.adequacy
        llm = self._llm("adequacy") if method in LLM_METHODS else None
        a = await check_adequacy(c, method, llm)
        return self._scaled(c, a), a.back

    def _scaled(self, c: Candidate, a: Adequacy) -> Candidate:
        """``c`` with its confidence scaled by ``a`` and the tokens ``a`` cost (counted)."""
        self.adequacy.add(a, self.settings.min_adequacy)
        scale = factor(a, self.settings.adequacy, self.settings.min_adequacy)
        c = _with_tokens(c, a.prompt_tokens, a.completion_tokens)
        return replace(c, confidence=round((c.confidence or 0.0) * scale, 4))

    async def _verify(self, c: Candidate, scores: Scores) -> Candidate:
        llm = self._llm("verify")
        v = await verify_alignment(c, llm.backend, llm.model, load_alignment_prompt())
        self.verify.add(v)
        c = _with_tokens(c, v.prompt_tokens, v.completion_tokens)
        if v.outcome == DISAGREE:
            return c.with_verdict((ENTITY_MISALIGNED,), None)
        if v.outcome == AGREE:  # the pairing is checked now, whatever the signals could tell
            verified = confidence(c.attempts, scores, 1.0, c.projection)
            return c.with_verdict((), verified)
        return c

    def _llm(self, check: str) -> LLMAccess:
        if self.llm is None:
            raise RuntimeError(f"{check} needs a backend")
        return self.llm

    def figures(self) -> dict[str, object]:
        """Counts for report.json: thresholds, each check's own counts (language checks and
        langdetect calls saved, alignment findings on samples with two or more entities), the
        named counters of every check and reason, the verification round, adequacy."""
        figures: dict[str, object] = {"settings": asdict(self.settings)}
        for check in self.checks:
            figures.update(check.figures())
        figures["checks"] = dict(sorted(self.counts.items()))
        figures["verify"] = asdict(self.verify)
        figures["round_trips"] = self.round_trips
        figures["adequacy"] = self.adequacy.figures()
        return figures


def _with_tokens(c: Candidate, prompt_tokens: int, completion_tokens: int) -> Candidate:
    """``c`` with the tokens a check's calls cost added to its own."""
    return replace(
        c,
        prompt_tokens=c.prompt_tokens + prompt_tokens,
        completion_tokens=c.completion_tokens + completion_tokens,
    )
