"""Tokens and BIO tags for token-classification trainers, with no conversion on their side.

Tokens: every CJK character is a token; other text splits at whitespace, with punctuation split
off words (so "Beijing." gives "Beijing" and "."; an entity ends on a token boundary).

>>> tokens_and_tags("John Smith visited Beijing.", [(0, 10, "PER"), (19, 26, "LOC")])
(['John', 'Smith', 'visited', 'Beijing', '.'], ['B-PER', 'I-PER', 'O', 'B-LOC', 'O'])
>>> tokens_and_tags("约翰访问北京。", [(4, 6, "LOC")])[1]
['O', 'O', 'O', 'O', 'B-LOC', 'I-LOC', 'O']
"""

from __future__ import annotations

from parallelner.scripts import is_cjk
from parallelner.tagging import ranges_to_bio


def tokenize(text: str) -> list[tuple[int, int]]:
    """Token offsets of ``text``."""
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
    return tokens


def tokens_and_tags(text: str, spans: list[tuple[int, int, str]]) -> tuple[list[str], list[str]]:
    """Tokens of ``text`` and their BIO tags; a token overlapping an entity belongs to it."""
    offsets = tokenize(text)
    ranges = []
    for start, end, label in sorted(spans):
        inside = [k for k, (a, b) in enumerate(offsets) if a < end and start < b]
        if inside:
            ranges.append((inside[0], inside[-1] + 1, label))
    return [text[a:b] for a, b in offsets], ranges_to_bio(len(offsets), ranges)
