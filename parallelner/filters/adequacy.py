"""Adequacy (``--adequacy round_trip|judge``, off by default): does the translation say what
the source says? Without it a truncated or inverted translation with its entities in place
passes at full confidence, so the report says "adequacy: not checked" when it is off.

- ``round_trip``: back-translate the target (the joint prompt, through the same client and
  cache as ``--round-trip``, so both together pay once) and compare the back-translation with
  the source by chrF.
- ``judge``: one short call in which the model names what the translation loses, changes or
  adds, and scores it 1–5 (``prompts/adequacy_judge.toml``).

Either gives a score in [0, 1]. A pair below ``min_adequacy`` keeps its status but its
confidence is scaled by ``LOW``, and a pair whose check could not tell (a failed call, an
unreadable answer) by ``UNKNOWN``: both fall under the review threshold (0.9) and go to an
annotator. ``benchmarks/real_model.py`` measures how well each separates a real model's bad
translations from its good ones, and what each costs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from parallelner.chrf import chrf
from parallelner.config import ADEQUACY_METHODS
from parallelner.llm.backend import ChatBackend, LLMCallFailed
from parallelner.prompts import AlignmentPrompt, load_prompts
from parallelner.records import Candidate, RecordError, Sample
from parallelner.reply import MalformedReply, json_object
from parallelner.translate import TranslateSettings, translate_sample

METHODS = ADEQUACY_METHODS
#: The score under which a pair goes to review, by method (from benchmarks/real_model.py).
MIN_ADEQUACY = {"round_trip": 0.5, "judge": 0.75}
LOW = 0.7  # confidence factor of a pair scored under min_adequacy
UNKNOWN = 0.85  # ... of a pair whose check could not tell


@dataclass(frozen=True)
class Adequacy:
    """One pair's adequacy score (None: the check could not tell) and what it cost."""

    score: float | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    back: Candidate | None = None  # round_trip: the back-translation, for --round-trip too


async def back_translate(c: Candidate, backend: ChatBackend, cfg: TranslateSettings) -> Candidate:
    """``c``'s target translated back into its source language with its projected entities
    (the joint prompt, so the client's cache and the round-trip check share the call)."""
    spans = tuple(s for s in c.tgt_entities if s is not None)
    try:
        sample = Sample(c.source_id, c.tgt_lang, c.tgt_text, spans)
    except RecordError:
        sample = Sample(c.source_id, c.tgt_lang, c.tgt_text, ())
    back_cfg = replace(cfg, src_lang=c.tgt_lang, tgt_lang=c.src_lang, escalate_model=None)
    return await translate_sample(sample, backend, load_prompts(), back_cfg)


async def round_trip_adequacy(
    c: Candidate, backend: ChatBackend, cfg: TranslateSettings, back: Candidate | None = None
) -> Adequacy:
    """chrF of the back-translation against the source (``back``: one already made)."""
    back = back or await back_translate(c, backend, cfg)
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


def factor(score: float | None, method: str, min_adequacy: float = 0.0) -> float:
    """The confidence factor of a pair scored ``score`` by ``method`` (1.0 when off)."""
    if method == "off":
        return 1.0
    if score is None:
        return UNKNOWN
    return LOW if score < (min_adequacy or MIN_ADEQUACY[method]) else 1.0


@dataclass
class AdequacyCounts:
    """What the adequacy check found over a run, and what it cost."""

    method: str = "off"
    checked: int = 0
    low: int = 0
    unknown: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, a: Adequacy, min_adequacy: float) -> None:
        self.checked += 1
        self.unknown += a.score is None
        self.low += a.score is not None and a.score < (min_adequacy or MIN_ADEQUACY[self.method])
        self.prompt_tokens += a.prompt_tokens
        self.completion_tokens += a.completion_tokens

    @classmethod
    def summed(cls, method: str, figures: list[dict]) -> AdequacyCounts:
        """The counts of several runs' ``figures()`` added up (a flow's shard tasks)."""
        total = cls(method)
        for found in figures:
            for f in fields(cls):
                if f.name != "method":
                    setattr(total, f.name, getattr(total, f.name) + int(found.get(f.name, 0)))
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
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens_per_pair": round(per_pair, 1),
        }
