"""Cheap Unicode script checks: which characters are CJK, Latin, letters at all."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter

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


_CJK_STARTS = [lo for lo, _ in _CJK_RANGES]  # sorted, not overlapping: for bisect


def is_cjk(ch: str) -> bool:
    """True for a Han/kana/hangul character or CJK punctuation."""
    cp = ord(ch)
    if cp < 0x2E80:
        return False
    k = bisect_right(_CJK_STARTS, cp) - 1
    return cp <= _CJK_RANGES[k][1]


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


# Scripts by code point range (letters only are counted, so punctuation inside a range is
# harmless). Sorted by start, for bisect.
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = tuple(
    sorted(
        [
            (0x0041, 0x005A, "Latin"),
            (0x0061, 0x007A, "Latin"),
            (0x00AA, 0x00AA, "Latin"),
            (0x00BA, 0x00BA, "Latin"),
            (0x00C0, 0x024F, "Latin"),
            (0x0250, 0x02AF, "Latin"),
            (0x0370, 0x03FF, "Greek"),
            (0x0400, 0x052F, "Cyrillic"),
            (0x0530, 0x058F, "Armenian"),
            (0x0590, 0x05FF, "Hebrew"),
            (0x0600, 0x06FF, "Arabic"),
            (0x0750, 0x077F, "Arabic"),
            (0x08A0, 0x08FF, "Arabic"),
            (0x0900, 0x097F, "Devanagari"),
            (0x0980, 0x09FF, "Bengali"),
            (0x0A00, 0x0A7F, "Gurmukhi"),
            (0x0A80, 0x0AFF, "Gujarati"),
            (0x0B00, 0x0B7F, "Oriya"),
            (0x0B80, 0x0BFF, "Tamil"),
            (0x0C00, 0x0C7F, "Telugu"),
            (0x0C80, 0x0CFF, "Kannada"),
            (0x0D00, 0x0D7F, "Malayalam"),
            (0x0D80, 0x0DFF, "Sinhala"),
            (0x0E00, 0x0E7F, "Thai"),
            (0x0E80, 0x0EFF, "Lao"),
            (0x0F00, 0x0FFF, "Tibetan"),
            (0x1000, 0x109F, "Myanmar"),
            (0x10A0, 0x10FF, "Georgian"),
            (0x1100, 0x11FF, "Hangul"),
            (0x1200, 0x139F, "Ethiopic"),
            (0x1780, 0x17FF, "Khmer"),
            (0x19E0, 0x19FF, "Khmer"),
            (0x1C90, 0x1CBF, "Georgian"),
            (0x1E00, 0x1EFF, "Latin"),
            (0x1F00, 0x1FFF, "Greek"),
            (0x2D80, 0x2DDF, "Ethiopic"),
            (0x3040, 0x30FF, "Kana"),
            (0x3130, 0x318F, "Hangul"),
            (0x31F0, 0x31FF, "Kana"),
            (0x3400, 0x4DBF, "Han"),
            (0x4E00, 0x9FFF, "Han"),
            (0xA960, 0xA97F, "Hangul"),
            (0xAB00, 0xAB2F, "Ethiopic"),
            (0xAC00, 0xD7AF, "Hangul"),
            (0xF900, 0xFAFF, "Han"),
            (0xFB1D, 0xFB4F, "Hebrew"),
            (0xFB50, 0xFDFF, "Arabic"),
            (0xFE70, 0xFEFF, "Arabic"),
            (0xFF21, 0xFF3A, "Latin"),
            (0xFF41, 0xFF5A, "Latin"),
            (0xFF66, 0xFF9F, "Kana"),
            (0x20000, 0x2FA1F, "Han"),
        ]
    )
)
_STARTS = [r[0] for r in _SCRIPT_RANGES]


def script_of(ch: str) -> str:
    """The script of a letter (``Latin``, ``Han``, ``Devanagari``, ...), or ``Other``."""
    cp = ord(ch)
    if cp < 0x80:
        return "Latin" if ch.isalpha() else "Other"
    k = bisect_right(_STARTS, cp) - 1
    if k >= 0 and cp <= _SCRIPT_RANGES[k][1]:
        return _SCRIPT_RANGES[k][2]
    return "Other"


#: Scripts written without spaces between words whose tokens are grapheme clusters.
UNSPACED_SCRIPTS = frozenset({"Thai", "Lao", "Tibetan", "Myanmar", "Khmer"})


def is_unspaced_script(ch: str) -> bool:
    """True for a character of Thai, Lao, Tibetan, Myanmar or Khmer (no spaces between words)."""
    return script_of(ch) in UNSPACED_SCRIPTS


def script_counts(text: str) -> Counter[str]:
    """How many letters of each script ``text`` holds (combining marks are not letters)."""
    return Counter(script_of(ch) for ch in text if ch.isalpha())
