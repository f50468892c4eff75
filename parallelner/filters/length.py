"""``length_ratio``: target/source length (characters, spaces not counted) outside the band of
the language pair.

Bands measured on the shared UNER PUD pairs (691 human translations per pair): from the 0.5th
percentile of target/source divided by 1.25 to the 99.5th percentile times 1.25, the reverse
direction by reciprocals (EN<->DE, PT, RU, SV); EN<->ZH keeps its wider hand-set band (measured
zh/en 0.21-0.94). Any other pair gets (0.4, 2.5) scaled by how much each side's script carries
per character: Han 0.38 of a Latin letter (the PUD zh/en median), kana 0.5, Hangul 0.45.
Sources shorter than 20 characters are not judged (their ratios are noise), and under 40 the
band is 1.5 times wider on both sides.
"""

from __future__ import annotations

from parallelner.config import FilterSettings
from parallelner.filters.base import Check, Verdict
from parallelner.reasons import LENGTH_RATIO
from parallelner.records import Candidate

#: (0.5th, 99.5th percentile) of len(target) / len(source), EN -> xx, on UNER PUD.
MEASURED = {"de": (0.794, 1.750), "pt": (0.698, 1.518), "ru": (0.635, 1.750), "sv": (0.762, 1.423)}
MARGIN = 1.25
#: Below this many source characters a ratio says nothing: the check does not reject; below
#: SHORT_CHARS the band is widened by SHORT_WIDENING on both sides.
MIN_CHARS = 20
SHORT_CHARS = 40
SHORT_WIDENING = 1.5


def _measured_bands() -> dict[str, tuple[float, float]]:
    bands: dict[str, tuple[float, float]] = {"en-zh": (0.15, 1.2), "zh-en": (0.8, 7.0)}
    for lang, (lo, hi) in MEASURED.items():
        bands[f"en-{lang}"] = (round(lo / MARGIN, 3), round(hi * MARGIN, 3))
        bands[f"{lang}-en"] = (round(1 / (hi * MARGIN), 3), round(MARGIN / lo, 3))
    return bands


#: (min, max) of len(target) / len(source) per "src-tgt"; other pairs: DEFAULT_BAND scaled.
BANDS: dict[str, tuple[float, float]] = _measured_bands()
DEFAULT_BAND = (0.4, 2.5)
#: Characters of a script per Latin letter of the same meaning (1.0 where not listed).
DENSITY = {"zh": 0.38, "ja": 0.5, "ko": 0.45}


def _visible(text: str) -> int:
    return len("".join(text.split()))


def length_ratio(c: Candidate) -> float:
    return text_length_ratio(c.src_text, c.tgt_text)


def text_length_ratio(src_text: str, tgt_text: str) -> float:
    """Visible characters of the translation per visible character of the source."""
    src = _visible(src_text)
    return _visible(tgt_text) / src if src else 0.0


def band(src_lang: str, tgt_lang: str, lo: float = 0.0, hi: float = 0.0) -> tuple[float, float]:
    """The band for the pair; ``lo``/``hi`` override it when set (non-zero)."""
    src, tgt = src_lang.split("-")[0], tgt_lang.split("-")[0]
    default = BANDS.get(f"{src}-{tgt}")
    if default is None:
        scale = DENSITY.get(tgt, 1.0) / DENSITY.get(src, 1.0)
        default = (DEFAULT_BAND[0] * scale, DEFAULT_BAND[1] * scale)
    return (lo or default[0], hi or default[1])


def length_reason(c: Candidate, ratio: float, low: float, high: float) -> str | None:
    """``length_ratio`` or None: ``ratio`` (``length_ratio(c)``) against the band (low, high)."""
    chars = _visible(c.src_text)
    if chars < MIN_CHARS:
        return None  # "I spotted a few." is "Jag lade märke till några stycken." (2.2x)
    if chars < SHORT_CHARS:  # and back (0.45x): short sentences vary more
        low, high = low / SHORT_WIDENING, high * SHORT_WIDENING
    return None if low <= ratio <= high else LENGTH_RATIO


class LengthCheck(Check):
    """``length_ratio``: the translation's length against the band of its language pair; the
    ratio (score) and the band (details) go into the confidence."""

    name = "length"
    reasons = (LENGTH_RATIO,)

    def check(self, c: Candidate, thresholds: FilterSettings) -> Verdict:
        ratio = length_ratio(c)
        t = thresholds
        lo, hi = band(c.src_lang, c.tgt_lang, t.min_length_ratio, t.max_length_ratio)
        reason = length_reason(c, ratio, lo, hi)
        return Verdict((reason,) if reason else (), ratio, {"band": (lo, hi)})
