"""The verification round (``--verify``, off by default): one more short LLM call per sample
with two or more entities, in which the model states, for each numbered source entity, the
text of the translation that translates it. A statement that points at another entity's
projected span gives ``entity_misaligned``; statements that all land on their own spans
confirm the pairing; anything else (left out, not in the translation) leaves it unknown.

The call goes through the same client, cache and retries as the translation; its templates and
reply schema are ``prompts/entity_alignment.toml`` and ``prompts/alignment.schema.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from parallelner.llm.backend import ChatBackend, LLMCallFailed
from parallelner.llm.prompts import AlignmentPrompt
from parallelner.llm.reply import MalformedReply, parse_alignment_reply
from parallelner.records import Candidate, Span
from parallelner.text.projection import find_occurrences

AGREE, DISAGREE, UNKNOWN = "agree", "disagree", "unknown"


@dataclass(frozen=True)
class Verification:
    """What the verification round said, and what it cost."""

    outcome: str  # agree, disagree or unknown
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failed: bool = False  # the call failed after every retry (the outcome is then unknown)


def _overlaps(a: tuple[int, int], b: Span) -> bool:
    return a[0] < b.end and b.start < a[1]


def compare(translation: str, projected: tuple[Span, ...], stated: tuple[str | None, ...]) -> str:
    """``agree`` when every stated text lands on its own projection, ``disagree`` when one
    lands only on another entity's projection, else ``unknown``.

    >>> spans = (Span(0, 3, "PER", "奧斯本"), Span(4, 6, "LOC", "美國"))
    >>> compare("奧斯本與美國", spans, ("奧斯本", "美國"))
    'agree'
    >>> compare("奧斯本與美國", spans, ("美國", None))
    'disagree'
    """
    outcome = AGREE
    for i, text in enumerate(stated):
        places = find_occurrences(translation, text.strip()) if text and text.strip() else []
        if any(_overlaps(p, projected[i]) for p in places):
            continue
        others = [s for j, s in enumerate(projected) if j != i]
        if places and all(any(_overlaps(p, s) for s in others) for p in places):
            return DISAGREE
        outcome = UNKNOWN
    return outcome


async def verify_alignment(
    c: Candidate, backend: ChatBackend, model: str, prompt: AlignmentPrompt
) -> Verification:
    """Ask which span translates each source entity of ``c`` (all of whose entities are
    projected) and compare the answer with the projection."""
    projected = tuple(s for s in c.tgt_entities if s is not None)
    messages = prompt.messages(c.src_lang, c.tgt_lang, c.src_text, c.tgt_text, c.src_entities)
    try:
        reply = await backend.complete(
            model, messages, prompt_version=prompt.version, params=prompt.params
        )
    except LLMCallFailed:
        return Verification(UNKNOWN, failed=True)
    tokens = (reply.prompt_tokens, reply.completion_tokens)
    try:
        stated = parse_alignment_reply(reply.content, len(c.src_entities))
    except MalformedReply:
        return Verification(UNKNOWN, *tokens)
    return Verification(compare(c.tgt_text, projected, stated), *tokens)
