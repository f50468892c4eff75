"""Tokens and BIO tags for token-classification trainers, with no conversion on their side.

Tokens are made of whole grapheme clusters (a base character with its combining marks,
viramas and ZWJ sequences: Hindi "नरेंद्र" stays one word, Arabic "مكتبًا" keeps its tanween):
every character of a script written without spaces is a token by itself (Han, kana, Hangul,
and, as grapheme clusters, Thai, Lao, Khmer, Myanmar, Tibetan); other text splits at
whitespace, with punctuation split off words (so "Beijing." gives "Beijing" and "."); and every
entity start and end is a token boundary, so each entity is its own run of tokens with one
``B-`` tag ("Joliot-Curie" holding two entities gives "Joliot", "-", "Curie"; "Rona's" gives
"Rona", "'s").

>>> tokens_and_tags("John Smith visited Beijing.", [(0, 10, "PER"), (19, 26, "LOC")])
(['John', 'Smith', 'visited', 'Beijing', '.'], ['B-PER', 'I-PER', 'O', 'B-LOC', 'O'])
>>> tokens_and_tags("约翰访问北京。", [(4, 6, "LOC")])[1]
['O', 'O', 'O', 'O', 'B-LOC', 'I-LOC', 'O']
>>> tokens_and_tags("Rona's lab", [(0, 4, "PER")])
(['Rona', "'s", 'lab'], ['B-PER', 'O', 'O'])
>>> tokens_and_tags("नरेंद्र मोदी", [(0, 12, "PER")])[0]
['नरेंद्र', 'मोदी']
>>> tokens_and_tags("ไปไนโรบี", [(2, 8, "LOC")])
(['ไ', 'ป', 'ไ', 'น', 'โ', 'ร', 'บี'], ['O', 'O', 'B-LOC', 'I-LOC', 'I-LOC', 'I-LOC', 'I-LOC'])
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex

from parallelner.scripts import is_cjk, is_unspaced_script
from parallelner.tagging import ranges_to_bio

_CLUSTER = regex.compile(r"\X")
_WORD_PUNCT = frozenset("_'’-")


@lru_cache(maxsize=1 << 16)  # a corpus has a few thousand distinct clusters: look them up
def _kind(cluster: str) -> str:
    """``space``, ``alone`` (a token by itself), ``word`` or ``punct``, by its base character."""
    base = cluster[0]
    if base.isspace():
        return "space"
    if is_cjk(base) or is_unspaced_script(base):
        return "alone"
    if base.isalnum() or base in _WORD_PUNCT or unicodedata.category(base).startswith("M"):
        return "word"
    return "punct"


def tokenize(text: str, cuts: frozenset[int] = frozenset()) -> list[tuple[int, int]]:
    """Token offsets of ``text``, whole grapheme clusters; a token is split at every offset in
    ``cuts`` (entity boundaries)."""
    tokens: list[tuple[int, int]] = []
    start: int | None = None
    for m in _CLUSTER.finditer(text):
        a, b = m.span()
        kind = _kind(m.group())
        if kind == "word" and (start is None or a not in cuts):
            start = a if start is None else start
            continue
        if start is not None:
            tokens.append((start, a))
            start = None
        if kind == "word":
            start = a
        elif kind != "space":
            tokens.append((a, b))
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


def tag_names(labels: list[str]) -> list[str]:
    """The class names of the BIO tags of ``labels``: ``O``, then ``B-``/``I-`` per label (the
    ids of ``*_tag_ids`` index this list; a token-classification head has this many classes)."""
    return ["O", *(f"{p}-{label}" for label in sorted(labels) for p in ("B", "I"))]
