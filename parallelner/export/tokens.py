"""Tokens and BIO tags for token-classification trainers, with no conversion on their side.

Tokens come from the text alone, as a tokenizer at inference sees it (never from the labels):

- whole grapheme clusters (a base character with its combining marks, viramas and ZWJ
  sequences: Hindi "नरेंद्र" stays one word, Arabic "مكتبًا" keeps its tanween); every
  character of a script written without spaces is a token by itself (Han, kana, Hangul, and,
  as grapheme clusters, Thai, Lao, Khmer, Myanmar, Tibetan);
- other text splits at whitespace, with punctuation split off words ("Beijing." gives
  "Beijing" and "."), the way Universal Dependencies treebanks (English EWT) tokenize: clitics
  apart ("Apple's" gives "Apple" "'s", "don't" "do" "n't", French "l'homme" "l'" "homme"),
  hyphenated words apart ("Joliot-Curie" gives "Joliot" "-" "Curie") but for a prefix
  ("e-mail", "non-human", "co-founder"), numbers and initialisms whole ("3.5", "1,000", "10:30",
  "U.S.").

An entity whose boundary falls inside such a token (rare: "Rona" of "Rona's" is not one) splits
the token there, as a last resort; ``TokenCounts`` counts how often, and the manifest says so.

>>> tokens_and_tags("John Smith visited Beijing.", [(0, 10, "PER"), (19, 26, "LOC")])
(['John', 'Smith', 'visited', 'Beijing', '.'], ['B-PER', 'I-PER', 'O', 'B-LOC', 'O'])
>>> tokens_and_tags("约翰访问北京。", [(4, 6, "LOC")])[1]
['O', 'O', 'O', 'O', 'B-LOC', 'I-LOC', 'O']
>>> tokens_and_tags("Rona's lab", [(0, 4, "PER")])
(['Rona', "'s", 'lab'], ['B-PER', 'O', 'O'])
>>> tokens_and_tags("Rona's lab", [])[0]
['Rona', "'s", 'lab']
>>> tokens_and_tags("The U.S. spent $3.5 billion on e-mail.", [])[0]
['The', 'U.S.', 'spent', '$', '3.5', 'billion', 'on', 'e-mail', '.']
>>> tokens_and_tags("नरेंद्र मोदी", [(0, 12, "PER")])[0]
['नरेंद्र', 'मोदी']
>>> tokens_and_tags("ไปไนโรบี", [(2, 8, "LOC")])
(['ไ', 'ป', 'ไ', 'น', 'โ', 'ร', 'บี'], ['O', 'O', 'B-LOC', 'I-LOC', 'I-LOC', 'I-LOC', 'I-LOC'])
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

from parallelner.text.tagging import ranges_to_bio
from parallelner.text.unicode_scripts import is_cjk, is_unspaced_script

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


#: Prefixes a hyphen does not split off (UD English EWT keeps "e-mail", "non-human" whole).
PREFIXES = frozenset(
    ["a", "e", "i", "x", "co", "re", "de", "ex", "pre", "pro", "non", "anti", "semi", "self",
     "vice", "over", "under", "post", "sub", "inter", "multi", "mid", "mini", "micro", "macro",
     "neo", "pan", "counter", "ultra"]
)  # fmt: skip
_CLITIC_END = regex.compile(r"(?i)^(.+?)(n['’]t|['’](?:s|re|ll|ve|d|m))$")
_ELISION = regex.compile(r"(?i)^((?:qu|[cdjlmnst])['’])(.+)$")
_NUMBER_JOINERS = frozenset(".,:")


@dataclass
class TokenCounts:
    """How often an entity boundary fell inside a token of the text (split there)."""

    entities: int = 0
    split_inside_a_token: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"entities": self.entities, "split_inside_a_token": self.split_inside_a_token}


def _clusters(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of the first cut: words, lone characters and punctuation."""
    out: list[tuple[int, int, str]] = []
    start: int | None = None
    for m in _CLUSTER.finditer(text):
        a, b = m.span()
        kind = _kind(m.group())
        if kind == "word":
            start = a if start is None else start
            continue
        if start is not None:
            out.append((start, a, "word"))
            start = None
        if kind != "space":
            out.append((a, b, kind))
    if start is not None:
        out.append((start, len(text), "word"))
    return out


def _word(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """A word's tokens: edge apostrophes and hyphens apart, then hyphens and clitics."""
    out: list[tuple[int, int]] = []
    while a < b and text[a] in _WORD_PUNCT:
        out.append((a, a + 1))
        a += 1
    tail: list[tuple[int, int]] = []
    while b > a and text[b - 1] in _WORD_PUNCT:
        tail.insert(0, (b - 1, b))
        b -= 1
    if a < b:
        out += _hyphenated(text, a, b)
    return out + tail


def _hyphenated(text: str, a: int, b: int) -> list[tuple[int, int]]:
    parts = [m.span() for m in regex.finditer(r"[^-]+", text[a:b])]
    if len(parts) < 2 or text[a : a + parts[0][1]].lower() in PREFIXES:
        return _clitics(text, a, b)
    out: list[tuple[int, int]] = []
    for k, (x, y) in enumerate(parts):
        if k:
            out.append((a + parts[k - 1][1], a + x))  # the hyphen(s) between
        out += _clitics(text, a + x, a + y)
    return out


def _clitics(text: str, a: int, b: int) -> list[tuple[int, int]]:
    word = text[a:b]
    if m := _ELISION.match(word):
        cut = a + m.end(1)
        return [(a, cut), *_clitics(text, cut, b)]
    if m := _CLITIC_END.match(word):
        cut = a + m.end(1)
        return [(a, cut), (cut, b)]
    return [(a, b)]


def _joined(text: str, tokens: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Numbers ("3" "." "5") and initialisms ("U" "." "S" ".") back into one token."""
    out: list[tuple[int, int, str]] = []
    for tok in tokens:
        a, b, kind = tok
        if len(out) >= 2 and kind == "word" and text[a:b].isdigit():
            (pa, pb, pk), (qa, qb, qk) = out[-2], out[-1]
            if (pk == "word" and text[pa:pb][-1:].isdigit() and qk == "punct"
                    and text[qa:qb] in _NUMBER_JOINERS and pb == qa and qb == a):  # fmt: skip
                out[-2:] = [(pa, b, "word")]
                continue
        if kind == "punct" and text[a:b] == "." and out:
            pa, pb, pk = out[-1]
            if pb == a and _initial(text[pa:pb]):
                out[-1] = (pa, b, "initials")
                continue
        if kind == "word" and b - a == 1 and text[a].isalpha() and out:
            pa, pb, pk = out[-1]
            if pk == "initials" and pb == a:
                out[-1] = (pa, b, "word-in-initials")
                continue
        out.append(tok)
    return [(a, b, "word" if k.endswith("initials") else k) for a, b, k in out]


def _initial(token: str) -> bool:
    """``U``, ``U.S`` (an initialism so far), for ``U.S.``."""
    return regex.fullmatch(r"\p{Lu}(?:\.\p{Lu})*", token) is not None


def tokenize(text: str, cuts: frozenset[int] = frozenset()) -> list[tuple[int, int]]:
    """Token offsets of ``text``, from the text alone; a token is split at every offset in
    ``cuts`` it holds inside (entity boundaries: the last resort)."""
    tokens: list[tuple[int, int]] = []
    for a, b, kind in _joined(text, _clusters(text)):
        if kind == "word" and not _is_number(text[a:b]):
            tokens += _word(text, a, b)
        else:
            tokens.append((a, b))
    return _split_at(tokens, cuts) if cuts else tokens


def _is_number(token: str) -> bool:
    return token[:1].isdigit() and any(ch in _NUMBER_JOINERS for ch in token)


def _split_at(tokens: list[tuple[int, int]], cuts: frozenset[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in tokens:
        for cut in sorted(c for c in cuts if a < c < b):
            out.append((a, cut))
            a = cut
        out.append((a, b))
    return out


def tokens_and_tags(
    text: str, spans: list[tuple[int, int, str]], counts: TokenCounts | None = None
) -> tuple[list[str], list[str]]:
    """Tokens of ``text`` and their BIO tags: one ``B-`` tag per entity, its tokens inside it;
    ``counts`` (when given) adds the entities and those whose boundary split a token."""
    plain = tokenize(text)
    cuts = frozenset(x for start, end, _ in spans for x in (start, end))
    inside = {c for c in cuts for a, b in plain if a < c < b}
    offsets = _split_at(plain, frozenset(inside)) if inside else plain
    if counts is not None:
        counts.entities += len(spans)
        counts.split_inside_a_token += sum(
            1 for start, end, _ in spans if start in inside or end in inside
        )
    ranges = []
    for start, end, label in sorted(spans):
        covered = [k for k, (a, b) in enumerate(offsets) if a < end and start < b]
        if covered:
            ranges.append((covered[0], covered[-1] + 1, label))
    return [text[a:b] for a, b in offsets], ranges_to_bio(len(offsets), ranges)


def tag_names(labels: list[str]) -> list[str]:
    """The class names of the BIO tags of ``labels``: ``O``, then ``B-``/``I-`` per label (the
    ids of ``*_tag_ids`` index this list; a token-classification head has this many classes)."""
    return ["O", *(f"{p}-{label}" for label in sorted(labels) for p in ("B", "I"))]
