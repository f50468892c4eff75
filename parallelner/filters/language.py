"""``wrong_language``: the translation is not in the target language.

A script check decides most cases for free (a Chinese target needs Han characters; an English
target must be mostly Latin and, when it is, English function words settle it); langdetect
(seeded, about 2 ms a call) runs only where the script check cannot decide. ``zh`` covers
simplified and traditional script (langdetect says ``zh-cn`` or ``zh-tw``). Entity names are
cut out first: a Chinese sentence about "Papworth" and "Addenbrooke" keeps them in Latin script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from parallelner.records import Candidate, Span
from parallelner.scripts import letter_shares

WRONG_LANGUAGE = "wrong_language"

DetectorFactory.seed = 0  # langdetect is random unless seeded

_EN_WORDS = frozenset(
    [
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "for",
        "it",
        "was",
        "on",
        "with",
        "as",
        "by",
        "at",
        "from",
        "be",
        "this",
        "are",
        "an",
        "or",
        "his",
        "her",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "not",
        "but",
        "have",
        "has",
        "had",
        "were",
        "will",
        "would",
        "said",
        "its",
        "their",
        "which",
        "who",
        "been",
        "after",
        "also",
        "more",
        "than",
        "into",
        "there",
        "new",
        "one",
        "two",
        "about",
        "up",
        "can",
    ]
)
_WORD = re.compile(r"[A-Za-z']+")
_KANA = re.compile(r"[\u3040-\u30ff]")


@dataclass
class LanguageCounts:
    checks: int = 0
    langdetect_calls: int = 0


@dataclass(frozen=True)
class Verdict:
    """Whether the text is in the language, and how sure the check is (0-1)."""

    ok: bool
    score: float


def _langdetect(text: str, lang: str, min_prob: float) -> Verdict:
    try:
        guesses = detect_langs(text)
    except LangDetectException:
        return Verdict(False, 0.0)
    prob = sum(g.prob for g in guesses if g.lang.split("-")[0] == lang)
    return Verdict(prob >= min_prob, prob)


def _script_verdict(text: str, lang: str, min_share: float) -> Verdict | None:
    """A verdict from scripts alone, or None when only a language model can tell."""
    letters, han, latin = letter_shares(text)
    if letters == 0:
        return Verdict(False, 0.0)
    if lang == "zh":
        if _KANA.search(text) and len(_KANA.findall(text)) > 0.1 * letters:
            return Verdict(False, 0.0)  # Japanese
        if han == 0:
            return Verdict(False, 0.0)
        return Verdict(True, han) if han >= min_share else None
    if lang == "en":
        if latin < min_share:
            return Verdict(False, latin)
        words = [w.lower() for w in _WORD.findall(text)]
        if len(words) < 4:
            return Verdict(True, latin)  # too short for function words or langdetect to tell
        share = sum(w in _EN_WORDS for w in words) / len(words)
        return Verdict(True, min(1.0, 0.6 + share)) if share >= 0.12 else None
    return None


def without_entities(text: str, spans: tuple[Span | None, ...]) -> str:
    """``text`` with entity names cut out: names often stay in their own script."""
    pieces, pos = [], 0
    for s in sorted((s for s in spans if s is not None), key=lambda s: s.start):
        if s.start >= pos:
            pieces += [text[pos : s.start], " " * (s.end - s.start)]
            pos = s.end
    pieces.append(text[pos:])
    return "".join(pieces)


def check_language(
    c: Candidate, counts: LanguageCounts, min_share: float, min_prob: float
) -> tuple[str | None, float]:
    """``wrong_language`` or None, and the check's score for the confidence."""
    counts.checks += 1
    text = without_entities(c.tgt_text, c.tgt_entities)
    if not any(ch.isalpha() for ch in text):
        return None, 0.5  # nothing but names (kept in their own script) to judge by
    verdict = _script_verdict(text, c.tgt_lang, min_share)
    if verdict is None:
        counts.langdetect_calls += 1
        verdict = _langdetect(text, c.tgt_lang.split("-")[0], min_prob)
    return (None if verdict.ok else WRONG_LANGUAGE), verdict.score
