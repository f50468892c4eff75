"""Rebuild a sentence from tokens, with each token's character offsets.

Latin-script tokens are joined with spaces, except where the writing attaches them:
punctuation, clitics (``should've``, ``Apple's``, ``don't``), numbers with separators
(``2,000``, ``3.5``), hyphens and slashes inside words (``US-Regierung``, ``and/or``), and
quotes, which open and close in turn (``"Ecce homo"``, ``„Wir“``). CJK characters take no
space between them (Chinese text has none). ``benchmarks/detokenize.py`` measures these rules
against the original text of the UNER files and against sacremoses' Moses detokenizer.

>>> join_tokens(["John", "Smith", "visited", "Beijing", "."])
('John Smith visited Beijing.', [(0, 4), (5, 10), (11, 18), (19, 26), (26, 27)])
>>> join_tokens(["约翰", "访问", "了", "北京", "。"])[0]
'约翰访问了北京。'
>>> join_tokens(["We", "should", "'", "ve", "paid", "2", ",", "000", "\\"", "euros", "\\""])[0]
'We should\\'ve paid 2,000 "euros"'
"""

from __future__ import annotations

from dataclasses import dataclass

from parallelner.text.unicode_scripts import is_cjk

_NO_SPACE_BEFORE = frozenset(".,;:!?%)]}»”’…") | {
    "'s",
    "'S",
    "n't",
    "N'T",
    "'re",
    "'ve",
    "'ll",
    "'d",
    "'m",
    "’s",
    "n’t",
    "’re",
    "’ve",
    "’ll",
    "’d",
    "’m",
}
_NO_SPACE_AFTER = frozenset("([{$«“‘„‚¿¡")
#: What follows an apostrophe token in a split clitic (``should`` ``'`` ``ve``).
_CLITIC_TAILS = frozenset({"s", "S", "ve", "re", "ll", "d", "m", "t", "VE", "RE", "LL", "D", "M"})
_APOSTROPHES = frozenset("'’")
_INWORD = frozenset("-/")
#: Quotes that open, with the mark that closes them: English “…”, German „…“, ‚…‘.
_OPENERS = {"“": "”", "„": "“", "‚": "‘", "‘": "’"}
#: A hyphen before these ends a word that the next one completes: ``Haupt- und Nebensatz``.
_CONJUNCTIONS = frozenset(
    ["und", "oder", "bis", "sowie", "and", "or", "och", "eller", "e", "ou", "y", "и", "или"]
)


@dataclass
class _Quotes:
    """Which quotes of the sentence so far are open: a straight ``"`` and Swedish ``”``
    alternate, a curly or low opener waits for its own closing mark."""

    straight: bool = False
    swedish: bool = False
    closer: str = ""  # the mark that closes the open curly or low quote

    def kind(self, tok: str) -> str:
        """``open``, ``close`` or ``""`` (not a quote), updating the state."""
        if self.closer and tok == self.closer:
            self.closer = ""
            return "close"
        if tok in _OPENERS and not self.closer:
            self.closer = _OPENERS[tok]
            return "open"
        if tok == '"':
            self.straight = not self.straight
            return "open" if self.straight else "close"
        if tok == "”":
            self.swedish = not self.swedish
            return "open" if self.swedish else "close"
        return ""


def _word_edge(token: str, last: bool) -> bool:
    ch = token[-1] if last else token[0]
    return ch.isalnum()


def _spaces(tokens: list[str]) -> list[bool]:
    """Whether a space goes before each token (the first: False)."""
    quotes = _Quotes()
    kinds = [quotes.kind(t) for t in tokens]
    out = [False] * len(tokens)
    for i in range(1, len(tokens)):
        prev, tok = tokens[i - 1], tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        out[i] = _space_before(i, prev, tok, nxt, kinds, tokens)
    return out


def _space_before(
    i: int, prev: str, tok: str, nxt: str, kinds: list[str], tokens: list[str]
) -> bool:
    if is_cjk(prev[-1]) or is_cjk(tok[0]):
        return False
    if kinds[i] == "close" or kinds[i - 1] == "open":
        return False
    if kinds[i] == "open":
        return True
    if kinds[i - 1] == "close":
        return tok not in _NO_SPACE_BEFORE and tok[0] not in _NO_SPACE_BEFORE
    if tok in _APOSTROPHES and nxt in _CLITIC_TAILS and _word_edge(prev, True):
        return False  # should ' ve -> should've
    if prev in _APOSTROPHES and tok in _CLITIC_TAILS and i >= 2 and _word_edge(tokens[i - 2], True):
        return False
    if _joins_number(prev, tok, nxt, tokens, i):
        return False
    if tok in _INWORD and nxt and _word_edge(prev, True) and _word_edge(nxt, False):
        return False  # US - Regierung -> US-Regierung, and / or -> and/or
    if prev in _INWORD and i >= 2 and _word_edge(tokens[i - 2], True) and _word_edge(tok, False):
        return tok in _CONJUNCTIONS
    if tok in _NO_SPACE_BEFORE or tok[0] in _NO_SPACE_BEFORE:
        return False
    return prev not in _NO_SPACE_AFTER


def _joins_number(prev: str, tok: str, nxt: str, tokens: list[str], i: int) -> bool:
    """``2`` ``,`` ``000`` and ``3`` ``.`` ``5``: the separator and the digits after it attach."""
    if tok in ",." and prev.isdigit() and nxt.isdigit():
        return tok == "." or len(nxt) == 3
    if prev in ",." and tok.isdigit() and i >= 2 and tokens[i - 2].isdigit():
        return prev == "." or len(tok) == 3
    return False


def join_tokens(tokens: list[str], *, unspaced: bool = False) -> tuple[str, list[tuple[int, int]]]:
    """The sentence and each token's (start, end); ``unspaced`` joins with no spaces at all."""
    spaces = [False] * len(tokens) if unspaced else _spaces(tokens)
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    pos = 0
    for tok, space in zip(tokens, spaces, strict=True):
        if space:
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
