"""Tokens and BIO tags for token-classification trainers, with no conversion on their side.

Tokens: every CJK character is a token; other text splits at whitespace, with punctuation split
off words (so "Beijing." gives "Beijing" and "."), and every entity start and end is a token
boundary, so each entity is its own run of tokens with one ``B-`` tag ("Joliot-Curie" holding
two entities gives "Joliot", "-", "Curie"; "Rona's" gives "Rona", "'s").

>>> tokens_and_tags("John Smith visited Beijing.", [(0, 10, "PER"), (19, 26, "LOC")])
(['John', 'Smith', 'visited', 'Beijing', '.'], ['B-PER', 'I-PER', 'O', 'B-LOC', 'O'])
>>> tokens_and_tags("约翰访问北京。", [(4, 6, "LOC")])[1]
['O', 'O', 'O', 'O', 'B-LOC', 'I-LOC', 'O']
>>> tokens_and_tags("Rona's lab", [(0, 4, "PER")])
(['Rona', "'s", 'lab'], ['B-PER', 'O', 'O'])
"""

from __future__ import annotations

from parallelner.scripts import is_cjk
from parallelner.tagging import ranges_to_bio


def tokenize(text: str, cuts: frozenset[int] = frozenset()) -> list[tuple[int, int]]:
    """Token offsets of ``text``; a token is split at every offset in ``cuts``."""
    tokens: list[tuple[int, int]] = []
    start: int | None = None
    for i, ch in enumerate(text):
        word_char = (ch.isalnum() or ch in "_'’-") and not is_cjk(ch)
        if word_char:
            if start is None:
                start = i
            continue
        if start is not None:
            tokens.append((start, i))
            start = None
        if not ch.isspace():
            tokens.append((i, i + 1))
    if start is not None:
        tokens.append((start, len(text)))
    return _split_at(tokens, cuts) if cuts else tokens


def _split_at(tokens: list[tuple[int, int]], cuts: frozenset[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in tokens:
        for cut in sorted(c for c in cuts if a < c < b):
            out.append((a, cut))
            a = cut
        out.append((a, b))
    return out


def tokens_and_tags(text: str, spans: list[tuple[int, int, str]]) -> tuple[list[str], list[str]]:
    """Tokens of ``text`` and their BIO tags: one ``B-`` tag per entity, its tokens inside it."""
    offsets = tokenize(text, frozenset(x for start, end, _ in spans for x in (start, end)))
    ranges = []
    for start, end, label in sorted(spans):
        inside = [k for k, (a, b) in enumerate(offsets) if a < end and start < b]
        if inside:
            ranges.append((inside[0], inside[-1] + 1, label))
    return [text[a:b] for a, b in offsets], ranges_to_bio(len(offsets), ranges)
