"""When a reply's form for an entity is not in its own translation, find the span before
rejecting, cheapest first (the translation usually holds the entity; a small model's
``entities`` list often repeats the source form instead, ``"Clinton"`` for ``克林顿``):

1. ``normalised``: the reply's form after width, whitespace, case and quote folding
   (``projection.find_occurrences``); free.
2. ``asked``: one focused question in the same conversation, "which exact characters of your
   translation render "Clinton"?", which a small model answers where it ignores a restated
   JSON contract; one short call.
3. ``located``: here, with no call: the source form as written when the translation kept it
   (digits, Latin-script names) and it occurs once; else the transliteration scorer
   (``transliteration.sound_similarity``) over the translation's free spans, accepted only when
   one span clearly wins.

Each placed entity records how it was found (``Candidate.projection``); the confidence of a
passed pair is scaled by the least certain of its methods (``filters.confidence.FACTOR``), so
a pair with an asked or located span always goes to review.
"""

from __future__ import annotations

import re

from parallelner.text.projection import find_occurrences
from parallelner.text.transliteration import phonetic_key, sound_similarity
from parallelner.text.unicode_scripts import is_cjk

METHODS = ("model", "normalised", "asked", "located")

#: A sound match is accepted at this similarity or more, with no rival span this close, for a
#: name of a transliterated kind (people, places: organisations are mostly translated,
#: Senate / 参议院, and a short key matches by chance, Senate / 信託 0.86), across scripts.
SOUND_MIN = 0.85
SOUND_MARGIN = 0.15
SOUND_MIN_KEY = 3  # consonant classes in the source form's key
SOUND_LABELS = ("PER", "LOC", "GPE")  # label prefixes, case-insensitive
_MAX_CJK = 8  # characters in a candidate span of a CJK run
_MAX_WORDS = 4  # words in a candidate span of a spaced run
_WORD = re.compile(r"[^\W\d_](?:[\w'’.-]*\w)?|\d[\d.,]*")

Span = tuple[int, int]
_NAME_DOTS = "·・‧•"  # between the parts of a transliterated name


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _free(span: Span, taken: list[Span]) -> bool:
    return not any(_overlaps(span, t) for t in taken)


def find_free(translation: str, surface: str, taken: list[Span]) -> Span | None:
    """The first occurrence of ``surface`` (folded as projection folds) not on a taken span."""
    if not surface.strip():
        return None
    return next(
        (o for o in find_occurrences(translation, surface.strip()) if _free(o, taken)), None
    )


def candidate_spans(translation: str, taken: list[Span]) -> list[Span]:
    """Spans a name could occupy: runs of up to 8 CJK characters, of up to 4 words elsewhere,
    none on a taken span."""
    spans: list[Span] = []
    i, n = 0, len(translation)

    def letter(ch: str) -> bool:
        return (is_cjk(ch) and ch.isalpha()) or ch in _NAME_DOTS  # not 。, but 阿伦·皮尔士

    while i < n:
        if letter(translation[i]):
            j = i
            while j < n and letter(translation[j]):
                j += 1
            for a in range(i, j):
                spans += [(a, b) for b in range(a + 1, min(j, a + _MAX_CJK) + 1)]
            i = j
        else:
            i += 1
    words = [m.span() for m in _WORD.finditer(translation) if not is_cjk(m.group()[0])]
    for a in range(len(words)):
        for b in range(a, min(len(words), a + _MAX_WORDS)):
            spans.append((words[a][0], words[b][1]))
    return [s for s in spans if _free(s, taken)]


def _cjk(text: str) -> bool:
    return any(is_cjk(ch) for ch in text)


def locate(translation: str, source_form: str, taken: list[Span], label: str = "") -> Span | None:
    """The span that renders ``source_form`` (an entity labelled ``label``) in
    ``translation``, found here, or None when no span clearly wins."""
    kept = [o for o in find_occurrences(translation, source_form) if _free(o, taken)]
    if len(kept) == 1:
        return kept[0]
    if kept:  # the source form twice or more: which one is this entity cannot be told
        return None
    if not label.upper().startswith(SOUND_LABELS):
        return None
    if len(phonetic_key(source_form)) < SOUND_MIN_KEY:
        return None
    source_cjk = _cjk(source_form)
    scored = sorted(
        (
            (sound_similarity(source_form, translation[a:b]), b - a, (a, b))
            for a, b in candidate_spans(translation, taken)
            if _cjk(translation[a:b]) != source_cjk  # across scripts only
        ),
        reverse=True,
    )
    if not scored or scored[0][0] < SOUND_MIN:
        return None
    best_score, _, best = scored[0]
    rival = next((score for score, _, span in scored[1:] if not _overlaps(span, best)), 0.0)
    return best if best_score - rival >= SOUND_MARGIN else None
