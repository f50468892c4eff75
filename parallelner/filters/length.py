"""``length_ratio``: target/source length (characters, spaces not counted) outside the band of
the language pair. Bands are wide: measured on the 691 UNER PUD pairs, zh/en runs 0.21-0.94."""

from __future__ import annotations

from parallelner.records import Candidate

LENGTH_RATIO = "length_ratio"

#: (min, max) of len(target) / len(source) per "src-tgt"; other pairs use DEFAULT_BAND.
BANDS: dict[str, tuple[float, float]] = {"en-zh": (0.15, 1.2), "zh-en": (0.8, 7.0)}
DEFAULT_BAND = (0.4, 2.5)


def _visible(text: str) -> int:
    return len("".join(text.split()))


def length_ratio(c: Candidate) -> float:
    src = _visible(c.src_text)
    return _visible(c.tgt_text) / src if src else 0.0


def band(src_lang: str, tgt_lang: str, lo: float = 0.0, hi: float = 0.0) -> tuple[float, float]:
    """The band for the pair; ``lo``/``hi`` override it when set (non-zero)."""
    default = BANDS.get(f"{src_lang}-{tgt_lang}", DEFAULT_BAND)
    return (lo or default[0], hi or default[1])


def check_length(c: Candidate, lo: float = 0.0, hi: float = 0.0) -> str | None:
    low, high = band(c.src_lang, c.tgt_lang, lo, hi)
    return None if low <= length_ratio(c) <= high else LENGTH_RATIO
