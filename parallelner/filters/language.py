"""``wrong_language``: the translation is confidently in another language than the target.

It rejects only on evidence. The script decides first, for free: a target whose script names
the language or a small family (Thai, Hangul, kana, Hebrew, Greek, Ethiopic, Georgian,
Armenian, the Indic scripts but Devanagari, ...) passes when that script carries the text, and
a text with none of the target's script is wrong. Where the script is shared (Latin, Cyrillic,
Arabic, Devanagari, Han), English function words settle English, and langdetect (seeded,
2-4 ms a call) runs only then: a translation is ``wrong_language`` when the detector is sure
(p >= 0.9) of another language that is not a close relative of the target, on a text long
enough to judge (40 letters), and knows the target language, or names the source language.
Otherwise the check says "unknown" (a language langdetect does not know: Amharic, Yoruba,
Hausa; a sentence too short to judge; a close relative): no reason, but a language score of
0.75, so the confidence drops below the review threshold.

Entity names are cut out first (a Chinese sentence keeps "Papworth" in Latin script), and so
are glosses in brackets in another script (安迪（Andy）) and, for the detector, quoted titles.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import langdetect
from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from parallelner.config import FilterSettings
from parallelner.filters.base import Check, CheckContext, Verdict
from parallelner.reasons import WRONG_LANGUAGE
from parallelner.records import Candidate, Span
from parallelner.text.unicode_scripts import letter_shares, script_counts

UNKNOWN_SCORE = 0.75  # a language nobody could check: below the review threshold
SURE = 0.9  # the detector's probability that counts as evidence
MIN_LETTERS = 40  # fewer letters (Han, kana, Hangul count 3) are too few to convict

DetectorFactory.seed = 0  # langdetect is random unless seeded
#: Languages langdetect has a profile for (read from its package, nothing fetched).
DETECTABLE = frozenset(
    name.split("-")[0]
    for name in os.listdir(os.path.join(os.path.dirname(langdetect.__file__), "profiles"))
)

_SCRIPTS: dict[str, frozenset[str]] = {}
for _script, _langs in {
    "Han": "zh",
    "Kana": "ja",
    "Hangul": "ko",
    "Thai": "th",
    "Lao": "lo",
    "Khmer": "km",
    "Myanmar": "my",
    "Tibetan": "bo dz",
    "Devanagari": "hi mr ne sa mai bho",
    "Bengali": "bn as",
    "Gurmukhi": "pa",
    "Gujarati": "gu",
    "Oriya": "or",
    "Tamil": "ta",
    "Telugu": "te",
    "Kannada": "kn",
    "Malayalam": "ml",
    "Sinhala": "si",
    "Arabic": "ar fa ur ps ug ckb sd",
    "Hebrew": "he yi",
    "Greek": "el",
    "Cyrillic": "ru uk bg sr mk be kk ky mn tg tt ba",
    "Ethiopic": "am ti",
    "Georgian": "ka",
    "Armenian": "hy",
    "Latin": "en de fr es pt it nl sv da no nb nn fi et lv lt pl cs sk sl hr bs ro hu tr az "
    "id ms tl vi sw yo ha ig zu xh af sq ca gl eu cy ga is mt so wo lg rw ny sn st tn om uz sr",
}.items():
    for _lang in _langs.split():
        _SCRIPTS[_lang] = _SCRIPTS.get(_lang, frozenset()) | {_script}
_SCRIPTS["ja"] = frozenset({"Kana", "Han"})
_SCRIPTS["ko"] = frozenset({"Hangul", "Han"})
#: Scripts several languages share: only a detector tells them apart.
SHARED_SCRIPTS = frozenset({"Latin", "Cyrillic", "Arabic", "Devanagari", "Han"})
#: Close relatives a detector confuses on short text: its verdict is "unknown", not "wrong".
_RELATIVES = [
    {"no", "nb", "nn", "da", "sv"},
    {"cs", "sk"},
    {"hr", "sr", "bs", "sl", "mk"},
    {"id", "ms", "tl"},
    {"hi", "mr", "ne"},
    {"ru", "uk", "bg", "be"},
    {"af", "nl"},
    {"es", "pt", "gl", "ca", "it"},
    {"fa", "ur", "ar", "ps"},
    {"zh", "ja"},
]

_EN_WORDS = frozenset(
    (
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
    )
)
_WORD = re.compile(r"[A-Za-z']+")
# Han, kana and Hangul carry about a word a character: they count three letters each.
_DENSE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_GLOSS = re.compile(r"[（(]([^（）()]{1,80})[）)]")
_QUOTED = re.compile(r"[\"“”„«»‘’‚‹›「」『』][^\"“”„«»「」『』]{1,120}[\"“”«»‘’‹›「」『』]")


@dataclass
class LanguageCounts:
    checks: int = 0
    langdetect_calls: int = 0
    unknown: int = 0


@dataclass(frozen=True)
class Reading:
    """``ok`` True (the target), False (confidently another language) or None (unknown)."""

    ok: bool | None
    score: float


def _base(lang: str) -> str:
    return lang.split("-")[0].lower()


def _relatives(a: str, b: str) -> bool:
    return a == b or any(a in family and b in family for family in _RELATIVES)


def without_entities(text: str, spans: tuple[Span | None, ...]) -> str:
    """``text`` with entity names cut out: names often stay in their own script."""
    pieces, pos = [], 0
    for s in sorted((s for s in spans if s is not None), key=lambda s: s.start):
        if s.start >= pos:
            pieces += [text[pos : s.start], " " * (s.end - s.start)]
            pos = s.end
    pieces.append(text[pos:])
    return "".join(pieces)


def _without_glosses(text: str, scripts: frozenset[str]) -> str:
    """Bracketed glosses written in none of the target's scripts cut out (安迪（Andy）)."""

    def cut(m: re.Match[str]) -> str:
        inner = script_counts(m.group(1))
        return " " * len(m.group()) if inner and not (set(inner) & scripts) else m.group()

    return _GLOSS.sub(cut, text) if "(" in text or "（" in text else text


def _english_share(text: str) -> tuple[int, float]:
    words = [w.lower() for w in _WORD.findall(text)]
    return len(words), (sum(w in _EN_WORDS for w in words) / len(words) if words else 0.0)


def _detect(text: str, tgt: str, src: str, min_prob: float, counts: LanguageCounts) -> Reading:
    """The detector's verdict: sure of the target, sure of something else, or unknown."""
    unquoted = _QUOTED.sub(" ", text)
    if sum(map(str.isalpha, unquoted)) >= MIN_LETTERS / 2:
        text = unquoted  # quoted titles may be in any language
    letters = sum(map(str.isalpha, text)) + 2 * len(_DENSE.findall(text))
    counts.langdetect_calls += 1
    try:
        guesses = detect_langs(text)
    except LangDetectException:
        return Reading(None, UNKNOWN_SCORE)
    probs: dict[str, float] = {}
    for g in guesses:
        probs[_base(g.lang)] = probs.get(_base(g.lang), 0.0) + g.prob
    top, p_top = max(probs.items(), key=lambda kv: kv[1])
    if tgt in DETECTABLE and probs.get(tgt, 0.0) >= min_prob:
        return Reading(True, probs[tgt])
    convicts = tgt in DETECTABLE or top == src
    if p_top >= SURE and letters >= MIN_LETTERS and convicts and not _relatives(top, tgt):
        return Reading(False, 1.0 - p_top)
    return Reading(None, UNKNOWN_SCORE)


def _han_verdict(text: str, tgt: str, letters: int, min_share: float) -> Reading | None:
    """Chinese or Japanese, told apart by kana; None where Han does not carry the text."""
    _, han, _ = letter_shares(text)
    kana = len(_KANA.findall(text)) / letters
    if tgt == "zh":
        if kana > 0.1:
            return Reading(False, 0.0)  # Japanese
        return Reading(True, han) if han >= min_share else None
    if han + kana >= min_share:  # ja: Han with no kana at all, on a real sentence, is Chinese
        return Reading(True, han + kana) if kana > 0 or letters < 10 else Reading(False, 0.0)
    return None


def judge_text(
    text: str, tgt: str, src: str, min_share: float, min_prob: float, counts: LanguageCounts
) -> Reading:
    """The verdict on ``text`` (entity names already cut out) as language ``tgt``."""
    tgt, src = _base(tgt), _base(src)
    scripts = _SCRIPTS.get(tgt)
    if scripts:
        text = _without_glosses(text, scripts)
    letters = sum(map(str.isalpha, text))
    if letters == 0:
        return Reading(True, 0.5)  # nothing but names (kept in their own script) to judge by
    if tgt in ("zh", "ja"):
        verdict = _han_verdict(text, tgt, letters, min_share)
        if verdict is not None:
            return verdict
    if tgt == "en":
        latin = letter_shares(text)[2]
        n_words, english = _english_share(text)
        if latin >= min_share and (n_words < 4 or english >= 0.12):
            # English function words settle it; under four words nothing else could
            return Reading(True, min(1.0, 0.6 + english) if n_words >= 4 else latin)
    if scripts:
        by_script = script_counts(text)
        share = sum(by_script[s] for s in scripts) / letters
        if share == 0 or (share < 0.2 and letters >= 8):
            return Reading(False, share)  # (nearly) not written in the target's script
        if share >= min_share and not scripts & SHARED_SCRIPTS:
            return Reading(True, share)  # the script names the language (or a small family)
    return _detect(text, tgt, src, min_prob, counts)


def check_language(
    c: Candidate, counts: LanguageCounts, min_share: float, min_prob: float
) -> tuple[str | None, float]:
    """``wrong_language`` or None, and the check's score for the confidence (0.75 when the
    language could not be checked)."""
    counts.checks += 1
    text = without_entities(c.tgt_text, c.tgt_entities)
    verdict = judge_text(text, c.tgt_lang, c.src_lang, min_share, min_prob, counts)
    if verdict.ok is None:
        counts.unknown += 1
    return (WRONG_LANGUAGE if verdict.ok is False else None), verdict.score


class LanguageCheck(Check):
    """``wrong_language``: the translation is confidently written in another language; its
    score (the detector's or the script's evidence) goes into the confidence."""

    name = "language"
    reasons = (WRONG_LANGUAGE,)

    def __init__(self, context: CheckContext | None = None) -> None:
        super().__init__(context)
        self.counts = LanguageCounts()

    def check(self, c: Candidate, thresholds: FilterSettings) -> Verdict:
        t = thresholds
        reason, score = check_language(c, self.counts, t.min_language_share, t.langdetect_min_prob)
        return Verdict((reason,) if reason else (), score)

    def figures(self) -> dict[str, object]:
        checks, calls = self.counts.checks, self.counts.langdetect_calls
        return {
            "language_checks": checks,
            "langdetect_calls": calls,
            "langdetect_saved": checks - calls,
            "language_unknown": self.counts.unknown,
        }
