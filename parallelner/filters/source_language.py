"""Is the input in the language ``--src-lang`` says? Checked on a sample before any request.

A file read with the wrong ``--src-lang`` (English read as ``zh``) would otherwise be sent in
full and every pair rejected. The first ``SAMPLE_SIZE`` sentences are judged with the target
language check (script first, the detector only where the script cannot tell, entity names cut
out); the run is refused only on evidence: at least ``MIN_JUDGED`` sentences the check could
judge, and most of them confidently another language. A language nobody can check (no script
of its own, unknown to the detector) is never refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from langdetect import LangDetectException, detect

from parallelner.filters.language import LanguageCounts, judge_text, without_entities
from parallelner.records import Sample
from parallelner.text.unicode_scripts import script_counts

SAMPLE_SIZE = 200
MIN_JUDGED = 10
WRONG_SHARE = 0.6  # of the judged sentences, confidently another language


@dataclass(frozen=True)
class SourceCheck:
    """How many sentences were judged, how many read as another language, and which."""

    lang: str
    judged: int
    other: int
    guess: str | None

    @property
    def wrong(self) -> bool:
        return self.judged >= MIN_JUDGED and self.other >= WRONG_SHARE * self.judged

    def message(self, where: str, src: str = "--src-lang ", force: str = "--force") -> str:
        """One line: what was found and what to do (``src``/``force``: how the user sets them)."""
        seems = f" ({self.guess})" if self.guess else ""
        hint = f"set {src}{self.guess}" if self.guess else f"check {src.strip(' =')}"
        return (
            f"{where}: {src}{self.lang}, but {self.other} of {self.judged} sampled "
            f"sentences read as another language{seems}: {hint}, or {force} to translate anyway"
        )


def _guess(texts: list[str]) -> str | None:
    """The language the misread sentences are in (script first, else langdetect), if clear."""
    scripts: Counter[str] = Counter()
    for t in texts:
        scripts.update(script_counts(t))
    scripts.pop("Other", None)
    if not scripts:
        return None
    script, _ = scripts.most_common(1)[0]
    by_script = {"Han": "zh", "Hangul": "ko", "Thai": "th", "Greek": "el", "Hebrew": "he"}
    if script in by_script:
        return by_script[script]
    try:
        return detect(" ".join(texts)[:5000]).split("-")[0]
    except LangDetectException:
        return None


def check_source(samples: Iterable[Sample], lang: str) -> SourceCheck:
    """The verdict on the first ``SAMPLE_SIZE`` samples as language ``lang``."""
    counts = LanguageCounts()
    judged, misread = 0, []
    for k, s in enumerate(samples):
        if k >= SAMPLE_SIZE:
            break
        verdict = judge_text(without_entities(s.text, s.entities), lang, "", 0.5, 0.7, counts)
        if verdict.ok is None:
            continue
        judged += 1
        if verdict.ok is False:
            misread.append(s.text)
    guess = _guess(misread[:50]) if misread else None
    return SourceCheck(lang, judged, len(misread), guess if guess != lang else None)
