"""Rebuild a sentence from tokens, with each token's character offsets.

Latin-script tokens are joined with spaces, except around punctuation that attaches;
CJK characters take no space between them (Chinese text has none).

>>> join_tokens(["John", "Smith", "visited", "Beijing", "."])
('John Smith visited Beijing.', [(0, 4), (5, 10), (11, 18), (19, 26), (26, 27)])
>>> join_tokens(["约翰", "访问", "了", "北京", "。"])[0]
'约翰访问了北京。'
"""

from __future__ import annotations

from parallelner.scripts import is_cjk

_NO_SPACE_BEFORE = frozenset(".,;:!?%)]}»”’…") | {
    "'s",
    "'S",
    "n't",
    "'re",
    "'ve",
    "'ll",
    "'d",
    "'m",
}
_NO_SPACE_AFTER = frozenset("([{$«“‘")


def _space_between(prev: str, tok: str) -> bool:
    if is_cjk(prev[-1]) or is_cjk(tok[0]):
        return False
    if tok in _NO_SPACE_BEFORE or tok[0] in _NO_SPACE_BEFORE:
        return False
    return prev not in _NO_SPACE_AFTER


def join_tokens(tokens: list[str], *, unspaced: bool = False) -> tuple[str, list[tuple[int, int]]]:
    """The sentence and each token's (start, end); ``unspaced`` joins with no spaces at all."""
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    pos = 0
    for i, tok in enumerate(tokens):
        if i and not unspaced and _space_between(tokens[i - 1], tok):
            parts.append(" ")
            pos += 1
        parts.append(tok)
        offsets.append((pos, pos + len(tok)))
        pos += len(tok)
    return "".join(parts), offsets


def align_tokens(text: str, tokens: list[str]) -> list[tuple[int, int]]:
    """Offsets of ``tokens`` found in order in ``text``; ValueError names the first one missing."""
    offsets: list[tuple[int, int]] = []
    pos = 0
    for i, tok in enumerate(tokens):
        start = text.find(tok, pos)
        if start < 0:
            raise ValueError(f"token {i + 1} {tok!r} does not occur in the text after offset {pos}")
        offsets.append((start, start + len(tok)))
        pos = start + len(tok)
    return offsets
