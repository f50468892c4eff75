"""How alike two names sound across scripts: romanize both, compare their consonant skeletons.

Names are mostly transliterated, not translated (Osborne / 奧斯本 "AoSiBen", Krasnoyarsk /
Красноярск), so after romanization their consonants line up even where the spelling differs.
Romanization is ``anyascii`` (one small offline table for every script: Han as pinyin,
Cyrillic, Greek, Arabic, Devanagari, Thai, Hangul, kana, ...). Consonants fold into classes
that transliteration confuses (b/p, d/t, g/k/c, l/r, f/v/w/h, the sibilants), vowels drop out.

>>> phonetic_key("Osborne"), phonetic_key("奧斯本")
('SPLN', 'SPN')
>>> round(sound_similarity("Washington", "華盛頓"), 2)
0.91
>>> round(sound_similarity("Washington", "美國"), 2)
0.0
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

# Digraphs first, then single letters; a letter missing from the table (vowels, y) drops out.
_DIGRAPHS = re.compile(r"sch|sh|ch|zh|th|ph|ng|ck|kh|gh|ts|tz|dz|qu")
_DIGRAPH_CLASS = {
    "sch": "S",
    "sh": "S",
    "ch": "S",
    "zh": "S",
    "th": "T",
    "ph": "F",
    "ng": "N",
    "ck": "K",
    "kh": "K",
    "gh": "K",
    "ts": "S",
    "tz": "S",
    "dz": "S",
    "qu": "K",
}
_LETTER_CLASS = {
    "b": "P",
    "p": "P",
    "d": "T",
    "t": "T",
    "g": "K",
    "k": "K",
    "c": "K",
    "q": "S",  # pinyin q, j, x stand for English ch, j, g, s
    "j": "S",
    "x": "S",
    "s": "S",
    "z": "S",
    "l": "L",
    "r": "L",
    "m": "M",
    "n": "N",
    "f": "F",
    "v": "F",
    "w": "F",
    "h": "F",
}


def romanize(text: str) -> str:
    """``text`` in lower-case ASCII letters, digits and spaces."""
    ascii_text = anyascii(unicodedata.normalize("NFKC", text)).lower()
    return re.sub(r"[^a-z0-9]+", " ", ascii_text).strip()


@lru_cache(maxsize=65536)
def phonetic_key(text: str) -> str:
    """The consonant skeleton of ``text`` after romanization (digits dropped)."""
    letters = re.sub(r"[^a-z]", "", romanize(text))
    folded = _DIGRAPHS.sub(lambda m: _DIGRAPH_CLASS[m.group()], letters)
    key = "".join(_LETTER_CLASS.get(ch, ch if ch.isupper() else "") for ch in folded)
    return re.sub(r"(.)\1+", r"\1", key)  # "ll", "ss": one sound


def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence (bit-parallel, Allison-Dix/Hyyro)."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    row = full
    for ch in b:
        matched = row & masks.get(ch, 0)
        row = ((row + matched) | (row - matched)) & full
    return len(a) - bin(row).count("1")


def sound_similarity(a: str, b: str) -> float:
    """Dice coefficient of the two consonant skeletons' common subsequence, in [0, 1).

    One is added below the line so that short skeletons, which match by chance, score less:
    "Obama"/"奧巴馬" (PM/PM) 0.8, "Washington"/"華盛頓" (FSNTN/FSNTN) 0.91.
    """
    return key_similarity(phonetic_key(a), phonetic_key(b))


def key_similarity(ka: str, kb: str) -> float:
    """sound_similarity of two consonant skeletons already computed."""
    if not ka or not kb:
        return 0.0
    return 2 * lcs_length(ka, kb) / (len(ka) + len(kb) + 1)
