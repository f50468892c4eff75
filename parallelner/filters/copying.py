"""``untranslated``: the translation equals or mostly copies the source.

Entity names are masked on both sides first, and quoted stretches of the translation found as
they are in the source (a song title, a name nobody marked): a translation may keep them.
Where the target is written with spaces, what counts is the share of its words (three letters
or more, capitalised ones left out: names and titles nobody marked) found as words of the
source: related languages share letters and trigrams (German and English: "Winter",
"-ung"/"-ing"), but a translated sentence shares few whole common words, while a copy shares
nearly all. Where the target is written without spaces (Chinese, Japanese, Thai), the share of
its character trigrams found in the source.

>>> from parallelner.records import Candidate
>>> c = Candidate("s:de-en", "s", "de", "en", "Die Universiade 2019 findet in Krasnojarsk statt.",
...     "The 2019 Universiade will be hosted by Krasnoyarsk.", (), (), "passed")
>>> round(copy_share(c), 2)
0.0
"""

from __future__ import annotations

import re

from parallelner.config import FilterSettings
from parallelner.filters.base import Check, Verdict
from parallelner.filters.language import without_entities
from parallelner.reasons import UNTRANSLATED
from parallelner.records import Candidate, Span
from parallelner.text.unicode_scripts import UNSPACED_LANGS

_WORD = re.compile(r"[^\W\d_]{3,}")  # two-letter words ("in", "an") are shared by chance
_QUOTED = re.compile(r"[\"“”„«»][^\"“”„«»]{1,120}[\"“”«»]")


def _masked(text: str, spans: tuple[Span | None, ...], source: str, *, fold: bool = True) -> str:
    """``text`` without entity names nor quoted stretches found as they are in ``source``."""
    folded_source = source.casefold()

    def cut(m: re.Match[str]) -> str:
        return " " if m.group()[1:-1].strip().casefold() in folded_source else m.group()

    masked = _QUOTED.sub(cut, without_entities(text, spans))
    return masked.casefold() if fold else masked


def _trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


def _trigram_share(src: str, tgt: str) -> float:
    src, tgt = "".join(src.split()), "".join(tgt.split())
    grams = _trigrams(tgt)
    if not grams:
        return 1.0 if tgt and tgt == src else 0.0
    return len(grams & _trigrams(src)) / len(grams)


def copy_share(c: Candidate) -> float:
    """How much of the translation is copied from the source, in [0, 1] (1.0: a copy)."""
    if c.tgt_text.strip() == c.src_text.strip():
        return 1.0
    src = without_entities(c.src_text, c.src_entities).casefold()
    tgt = _masked(c.tgt_text, c.tgt_entities, c.src_text, fold=False)
    if c.tgt_lang.split("-")[0] in UNSPACED_LANGS:
        return _trigram_share(src, tgt.casefold())
    words = _WORD.findall(tgt)
    # Capitalised words are mostly names and titles nobody marked ("Lord President of the
    # Council"), which a translation keeps; a copy is given away by its common words.
    common = [w.casefold() for w in words if not w[0].isupper()] or [w.casefold() for w in words]
    if not common:
        return 0.0
    source_words = set(_WORD.findall(src))
    return sum(w in source_words for w in common) / len(common)


class CopyingCheck(Check):
    """``untranslated``: more of the translation copied from the source than
    ``untranslated_overlap`` allows; the copied share goes into the confidence."""

    name = "copying"
    reasons = (UNTRANSLATED,)

    def check(self, c: Candidate, thresholds: FilterSettings) -> Verdict:
        copied = copy_share(c)
        return Verdict((UNTRANSLATED,) if copied > thresholds.untranslated_overlap else (), copied)
