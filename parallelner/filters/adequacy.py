"""Adequacy (``--adequacy off|checks|round_trip|judge``, ``checks`` by default): does the
translation say what the source says? Without it a truncated or inverted translation with its
entities in place passes at full confidence, so the report says "adequacy: not checked" when it
is off.

- ``checks`` (free, no LLM call): every number the source writes comes back with its value
  (``filters/numbers.py``) and no source word is left untranslated in a translation into
  another script (``filters/words_left.py``). Where a check cannot tell for a language pair
  (numbers in a language it does not know, words between two Latin-script languages) it says
  so in ``report.json`` (``not_applicable``) and does not lower the confidence.
- ``round_trip``: back-translate the target (the joint prompt, through the same client and
  cache as ``--round-trip``, so both together pay once) and compare the back-translation with
  the source by chrF.
- ``judge``: one short call in which the model names what the translation loses, changes or
  adds, and scores it 1–5 (``prompts/adequacy_judge.toml``).

Both run the free checks too, and give a score in [0, 1]. A pair a free check finds something
in, or scored below ``min_adequacy``, keeps its status but its confidence is scaled by ``LOW``;
a pair whose LLM check could not tell (a failed call, an unreadable answer) by ``UNKNOWN``: both
fall under the review threshold (0.9) and go to an annotator. ``benchmarks/real_model.py``
measures how well each separates a real model's bad translations from its good ones, and what
each costs; ``benchmarks/adequacy_checks.py`` how often the free checks flag human ones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from parallelner.config import ADEQUACY_METHODS
from parallelner.filters.base import LLMAccess
from parallelner.filters.numbers import numbers_lost
from parallelner.filters.words_left import words_left
from parallelner.llm.backend import ChatBackend, LLMCallFailed
from parallelner.llm.prompts import AlignmentPrompt, load_adequacy_prompt
from parallelner.llm.reply import MalformedReply, json_object
from parallelner.records import Candidate, primary_language
from parallelner.text.chrf import chrf
from parallelner.text.unicode_scripts import UNSPACED_LANGS

METHODS = ADEQUACY_METHODS
#: The methods that send LLM calls (``checks`` reads the pair alone).
LLM_METHODS = ("round_trip", "judge")
#: The free checks, by name: what each finds in a pair, or None where it cannot tell.
FREE_CHECKS = {
    "numbers": lambda c: numbers_lost(c.src_text, c.tgt_text, c.src_lang, c.tgt_lang),
    "words_left": words_left,
}
#: The score under which a pair goes to review, by method (from benchmarks/real_model.py).
MIN_ADEQUACY = {"round_trip": 0.5, "judge": 0.75}
LOW = 0.7  # confidence factor of a pair scored under min_adequacy
UNKNOWN = 0.85  # ... of a pair whose check could not tell


@dataclass(frozen=True)
class Adequacy:
    """One pair's adequacy: the LLM check's score (None: it could not tell, or none ran), what
    the free checks found (``("numbers: $103.7 million", ...)``) and could not tell, and what
    it cost."""

    score: float | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    back: Candidate | None = None  # round_trip: the back-translation, for --round-trip too
    found: tuple[str, ...] = ()
    not_applicable: tuple[str, ...] = ()  # the free checks that cannot tell for this pair

    def is_low(self, method: str, min_adequacy: float = 0.0) -> bool:
        """Whether the pair goes to review: a free check found something, or the score is
        under ``min_adequacy`` (0: the method's own)."""
        if self.found:
            return True
        floor = min_adequacy or MIN_ADEQUACY.get(method, 0.0)
        return self.score is not None and self.score < floor

    def is_unknown(self, method: str) -> bool:
        """Whether the LLM check could not tell (it failed, or cannot for this pair)."""
        return method in LLM_METHODS and self.score is None


def round_trip_applies(src_lang: str) -> bool:
    """Whether chrF of a back-translation against the source can tell: not for a source
    written without spaces (zh, ja, th ...), where a faithful back-translation scores as low
    as a wrong one (Qwen2.5-Coder-1.5B's 55 passed ZH→EN pairs: median 0.14 against the
    traditional-script source, 0.26 with the scripts folded, under the 0.5 that sorts EN
    sources): such a pair is *unknown*, goes to review, and no call is paid for it."""
    return primary_language(src_lang) not in UNSPACED_LANGS


def free_checks(c: Candidate) -> Adequacy:
    """What the free checks find in ``c`` (no LLM call)."""
    found, not_applicable = [], []
    for name, check in FREE_CHECKS.items():
        result = check(c)
        if result is None:
            not_applicable.append(name)
        found += [f"{name}: {item}" for item in result or ()]
    return Adequacy(None, found=tuple(found), not_applicable=tuple(not_applicable))


async def round_trip_adequacy(
    c: Candidate, llm: LLMAccess, back: Candidate | None = None
) -> Adequacy:
    """chrF of the back-translation against the source (``back``: one already made)."""
    back = back or await llm.back_translate(c)
    tokens = (back.prompt_tokens, back.completion_tokens)
    if back.status == "failed" or not back.tgt_text.strip():
        return Adequacy(None, *tokens, back=back)
    return Adequacy(chrf(back.tgt_text, c.src_text), *tokens, back=back)


async def judge_adequacy(
    c: Candidate, backend: ChatBackend, model: str, prompt: AlignmentPrompt
) -> Adequacy:
    """The model's 1–5 score of the translation, mapped onto [0, 1]."""
    messages = prompt.messages(c.src_lang, c.tgt_lang, c.src_text, c.tgt_text, ())
    try:
        reply = await backend.complete(
            model, messages, prompt_version=prompt.version, params=prompt.params
        )
    except LLMCallFailed:
        return Adequacy(None)
    tokens = (reply.prompt_tokens, reply.completion_tokens)
    try:
        score = json_object(reply.content).get("score")
    except MalformedReply:
        return Adequacy(None, *tokens)
    if isinstance(score, bool) or not isinstance(score, int | float) or not 1 <= score <= 5:
        return Adequacy(None, *tokens)
    return Adequacy(round((score - 1) / 4, 4), *tokens)


async def check_adequacy(c: Candidate, method: str, llm: LLMAccess | None) -> Adequacy:
    """``c``'s adequacy by ``method``: the free checks, then the LLM check if it has one."""
    free = free_checks(c)
    if method not in LLM_METHODS:
        return free
    if method == "round_trip" and not round_trip_applies(c.src_lang):
        return replace(free, not_applicable=(*free.not_applicable, "round_trip"))
    if llm is None:
        raise RuntimeError(f"--adequacy {method} needs a backend")
    if method == "round_trip":
        a = await round_trip_adequacy(c, llm)
    else:
        a = await judge_adequacy(c, llm.backend, llm.model, load_adequacy_prompt())
    return replace(a, found=free.found, not_applicable=free.not_applicable)


def factor(a: Adequacy, method: str, min_adequacy: float = 0.0) -> float:
    """The confidence factor of a pair whose adequacy is ``a`` (1.0 when off)."""
    if method == "off":
        return 1.0
    if a.is_low(method, min_adequacy):
        return LOW
    return UNKNOWN if a.is_unknown(method) else 1.0


@dataclass
class AdequacyCounts:
    """What the adequacy check found over a run, and what it cost."""

    method: str = "off"
    checked: int = 0
    low: int = 0
    unknown: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    found: Counter[str] = field(default_factory=Counter)  # pairs a free check found in
    not_applicable: Counter[str] = field(default_factory=Counter)  # pairs a check cannot tell

    def add(self, a: Adequacy, min_adequacy: float) -> None:
        self.checked += 1
        self.unknown += a.is_unknown(self.method) and not a.is_low(self.method, min_adequacy)
        self.low += a.is_low(self.method, min_adequacy)
        self.prompt_tokens += a.prompt_tokens
        self.completion_tokens += a.completion_tokens
        self.found.update({f.split(": ", 1)[0] for f in a.found})
        self.not_applicable.update(a.not_applicable)

    @classmethod
    def summed(cls, method: str, figures: list[dict]) -> AdequacyCounts:
        """The counts of several runs' ``figures()`` added up (a flow's shard tasks)."""
        total = cls(method)
        for counts in figures:
            for name in ("checked", "low", "unknown", "prompt_tokens", "completion_tokens"):
                setattr(total, name, getattr(total, name) + int(counts.get(name, 0)))
            total.found.update(counts.get("found") or {})
            total.not_applicable.update(counts.get("not_applicable") or {})
        return total

    def figures(self) -> dict[str, object]:
        if self.method == "off":
            return {"method": "off", "checked": 0, "note": "not checked (--adequacy off)"}
        tokens = self.prompt_tokens + self.completion_tokens
        per_pair = tokens / self.checked if self.checked else 0
        return {
            "method": self.method,
            "checked": self.checked,
            "low": self.low,
            "unknown": self.unknown,
            "found": {name: self.found[name] for name in FREE_CHECKS},
            "not_applicable": dict(sorted(self.not_applicable.items())),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens_per_pair": round(per_pair, 1),
        }
