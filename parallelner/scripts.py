"""Cheap Unicode script checks: which characters are CJK, Latin, letters at all."""

from __future__ import annotations

import re

# Han, kana, hangul and CJK punctuation/fullwidth forms: text in these needs no spaces.
_CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x2E80, 0x2FDF),  # radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3100, 0x31BF),  # bopomofo
    (0x3400, 0x4DBF),  # extension A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xAC00, 0xD7AF),  # hangul syllables
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0xFE30, 0xFE4F),  # compatibility forms
    (0xFF00, 0xFFEF),  # half/fullwidth forms
    (0x20000, 0x2FA1F),  # extensions B-F, compatibility supplement
)

# Languages written without spaces between words.
UNSPACED_LANGS = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo"})


def is_cjk(ch: str) -> bool:
    """True for a Han/kana/hangul character or CJK punctuation."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def is_han(ch: str) -> bool:
    """True for a Han ideograph (simplified or traditional)."""
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2FA1F


def is_latin_letter(ch: str) -> bool:
    return ch.isalpha() and ord(ch) < 0x250


_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0002fa1f]")
_LATIN = re.compile(r"[A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]")


def letter_shares(text: str) -> tuple[int, float, float]:
    """Number of letters in ``text`` and the shares of them that are Han and Latin."""
    letters = sum(map(str.isalpha, text))
    if not letters:
        return 0, 0.0, 0.0
    return letters, len(_HAN.findall(text)) / letters, len(_LATIN.findall(text)) / letters
