"""Projection: find each entity's surface form in the translation, as character offsets.

A pure function, in the spirit of spaCy's ``offsets_to_biluo_tags``: text and surface forms in,
offsets or a reason out; overlaps refused, nothing dropped silently.

>>> locate_entities("约翰在北京见了约翰。", ["约翰", "北京", "约翰"])
[(0, 2), (3, 5), (7, 9)]
>>> locate_entities("John met Mary.", ["John", "Paris", None])
[(0, 4), 'entity_not_found', 'entity_missing']
>>> locate_entities("Amerikanische Ureinwohner in ganz Amerika", ["Amerika"])
[(34, 41)]
"""

from __future__ import annotations

import unicodedata

from parallelner.reasons import ENTITY_MISSING, ENTITY_NOT_FOUND, ENTITY_OVERLAP
from parallelner.text.unicode_scripts import is_cjk

Located = tuple[int, int] | str


def _normalize(text: str, drop_spaces: bool) -> tuple[str, list[int]]:
    """NFKC (so full-width = half-width), whitespace folded or dropped; each char's origin."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for n in unicodedata.normalize("NFKC", ch):
            if n.isspace():
                if drop_spaces or (chars and chars[-1] == " "):
                    continue
                n = " "
            chars.append(n)
            origin.append(i)
    return "".join(chars), origin


def _find_all(haystack: str, needle: str) -> list[int]:
    starts, pos = [], haystack.find(needle)
    while pos >= 0:
        starts.append(pos)
        pos = haystack.find(needle, pos + 1)
    return starts


#: Quotes a model may write differently from its translation: folded to ASCII when matching.
_QUOTES = str.maketrans({c: '"' for c in "“”„‟«»「」『』＂"} | {c: "'" for c in "‘’‚‛‹›＇`´"})


def _fold(text: str) -> str:
    """Case and quotes folded, one character for one (so offsets carry over)."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text.translate(_QUOTES))


def find_occurrences(text: str, surface: str) -> list[tuple[int, int]]:
    """Offsets of ``surface`` in ``text``: exact matches, else after NFKC and whitespace folding,
    else ignoring whitespace altogether (an LLM writing "北京 大学" for "北京大学"), else with
    case and quotes folded too ("census bureau" for "Census Bureau")."""
    if surface in text:
        return [(s, s + len(surface)) for s in _find_all(text, surface)]
    for fold in (False, True):
        for drop_spaces in (False, True):
            norm_text, origin = _normalize(_fold(text) if fold else text, drop_spaces)
            needle = _normalize(_fold(surface) if fold else surface, drop_spaces)[0].strip()
            if needle:
                hits = _find_all(norm_text, needle)
                if hits:
                    return [(origin[s], origin[s + len(needle) - 1] + 1) for s in hits]
    return []


def projection_method(translation: str, surface: str | None, span: tuple[int, int]) -> str:
    """``model`` when the reply's form is the span's text character for character, else
    ``normalised`` (found after width, whitespace, case or quote folding)."""
    return (
        "model"
        if surface is not None and translation[span[0] : span[1]] == surface
        else ("normalised")
    )


def _whole_word(text: str, span: tuple[int, int]) -> bool:
    """True unless a letter or digit of a spaced script touches the span on either side."""
    start, end = span
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not any(ch.isalnum() and not is_cjk(ch) for ch in (before, after))


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def locate_entities(translation: str, surfaces: list[str | None]) -> list[Located]:
    """For each surface form, its (start, end) in ``translation`` or a reason code.

    Longer forms are placed first, so "York" cannot take the span inside "New York"; entities
    with the same form take its occurrences in source order; no two entities share a span
    (the later one gets ``entity_overlap``).
    """
    result: list[Located] = [ENTITY_MISSING] * len(surfaces)
    taken: list[tuple[int, int]] = []
    order = sorted(
        (i for i, s in enumerate(surfaces) if s is not None and s.strip()),
        key=lambda i: (-len(surfaces[i].strip()), i),  # type: ignore[union-attr]
    )
    for i in order:
        occurrences = find_occurrences(translation, surfaces[i].strip())  # type: ignore[union-attr]
        free = [o for o in occurrences if not any(_overlaps(o, t) for t in taken)]
        # A whole word before a piece of one: "Amerika" is not the start of "Amerikanische".
        free.sort(key=lambda o: not _whole_word(translation, o))
        if not occurrences:
            result[i] = ENTITY_NOT_FOUND
        elif not free:
            result[i] = ENTITY_OVERLAP
        else:
            result[i] = free[0]
            taken.append(free[0])
    return result
