"""``untranslated``: the translation equals or mostly copies the source.

The share of the translation's character trigrams (entity names masked on both sides, case and
spaces ignored) that also occur in the source. A real EN<->ZH translation shares almost none.
"""

from __future__ import annotations

from parallelner.filters.language import without_entities
from parallelner.records import Candidate, Span

UNTRANSLATED = "untranslated"


def _masked(text: str, spans: tuple[Span | None, ...]) -> str:
    return "".join(without_entities(text, spans).casefold().split())


def _trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


def copy_share(c: Candidate) -> float:
    """Share of the translation's trigrams found in the source (1.0 for an exact copy)."""
    src = _masked(c.src_text, c.src_entities)
    tgt = _masked(c.tgt_text, c.tgt_entities)
    if not tgt:
        return 1.0 if c.tgt_text.strip() == c.src_text.strip() else 0.0
    grams = _trigrams(tgt)
    if not grams:
        return 1.0 if tgt == src else 0.0
    return len(grams & _trigrams(src)) / len(grams)


def check_untranslated(c: Candidate, max_share: float) -> str | None:
    return UNTRANSLATED if copy_share(c) > max_share else None
