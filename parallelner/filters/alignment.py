"""``entity_misaligned``: a target span that is not the translation of its own source entity.

The reply names a surface form per entity id; if the model gives entity 1 the form of entity 2
(a swap, a misnumbering), every label count still agrees. This check scores how well each
target surface corresponds to each source entity, finds the best one-to-one assignment
(``parallelner.text.assignment``) and compares the reply's own with it:

- the reply's assignment is clearly worse than the best one, on strong evidence ->
  ``entity_misaligned``;
- somewhat worse -> "suspect": the pair passes with its confidence cut, so review sees it;
- two or more entities whose pairing no signal confirms -> "unknown": where their labels
  differ the confidence is cut below the review threshold (a swap would corrupt tags), where
  they share a label it is cut a little (a swap corrupts only the alignment);
- every entity but at most one confirmed (the last is then forced) -> "confirmed".

Evidence for a (source, target) pair, each signal cheap and offline: the same name in both
(case and width folded), the same numbers, and how alike the names sound after romanization
(``parallelner.text.transliteration``); a foreign personal name written with a middle dot in CJK
(喬·斯頓雷) is a person whatever the language pair.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from parallelner.config import FilterSettings
from parallelner.filters.base import Check, CheckContext, Verdict
from parallelner.reasons import ENTITY_MISALIGNED
from parallelner.records import Candidate, Span
from parallelner.text.assignment import best_assignment
from parallelner.text.transliteration import key_similarity, phonetic_key

CONFIRMED, UNKNOWN, SUSPECT, MISALIGNED = "confirmed", "unknown", "suspect", "misaligned"
#: Confidence factor per state; "unknown" depends on whether the unconfirmed labels differ.
FACTORS = {CONFIRMED: 1.0, SUSPECT: 0.7, MISALIGNED: 0.0}
UNKNOWN_MIXED_LABELS, UNKNOWN_SAME_LABEL = 0.8, 0.95

STRONG = 0.6  # evidence this high names a pairing (a transliteration, the same name)
CONFIRM_MARGIN = 0.25  # ... when it beats every rival of both entities by this much
REJECT_GAIN = 0.6  # the best assignment beats the reply's by this much, on strong pairs
SUSPECT_GAIN = 0.3
#: Beyond this many entities a sentence gets no assignment (n² evidence, n³ assignment: 5,000
#: entities took 80 s of CPU): its pairing is unknown and it goes to review.
MAX_ALIGNED = 64

_DIGITS = re.compile(r"\d+")
_MIDDLE_DOT = re.compile(r"\w[·・•‧]\w")
_PERSON_LABELS = frozenset({"PER", "PERSON", "PS"})


@dataclass(frozen=True)
class Alignment:
    """The check's finding: its state, the confidence factor, and the best pairing it found
    (``best[i]``: the target entity that best translates source entity i)."""

    state: str
    factor: float
    best: tuple[int | None, ...] = ()

    @property
    def reason(self) -> str | None:
        return ENTITY_MISALIGNED if self.state == MISALIGNED else None


@dataclass(frozen=True, slots=True)
class _Name:
    """What the evidence compares of one surface form, computed once per distinct form."""

    folded: str
    numbers: tuple[str, ...]
    key: str
    dotted: bool  # a CJK personal name written with a middle dot


@lru_cache(maxsize=65536)
def _name(text: str) -> _Name:
    folded = "".join(unicodedata.normalize("NFKC", text).casefold().split())
    numbers = tuple(sorted(_DIGITS.findall(text)))
    return _Name(folded, numbers, phonetic_key(text), bool(_MIDDLE_DOT.search(text)))


def evidence(src: Span, tgt: Span) -> float:
    """How strongly ``tgt`` looks like the translation of ``src``, in [0, 1]."""
    a, b = _name(src.text), _name(tgt.text)
    if a.folded == b.folded:
        return 1.0
    if a.numbers or b.numbers:
        return 1.0 if a.numbers == b.numbers else 0.0
    score = key_similarity(a.key, b.key)
    if b.dotted and src.label.upper() not in _PERSON_LABELS:
        score *= 0.5  # a transliterated personal name standing for a non-person
    return score


def _confirmed(scores: list[list[float]], i: int) -> bool:
    own = scores[i][i]
    rivals = [scores[i][j] for j in range(len(scores)) if j != i]
    rivals += [scores[j][i] for j in range(len(scores)) if j != i]
    return own >= STRONG and own - max(rivals, default=0.0) >= CONFIRM_MARGIN


def align(src: tuple[Span, ...], tgt: tuple[Span, ...]) -> Alignment:
    """The finding for ``tgt[i]`` given as the projection of ``src[i]`` (same length)."""
    n = len(src)
    if n < 2:
        return Alignment(CONFIRMED, 1.0, tuple(range(n)))
    if n > MAX_ALIGNED:  # too many to pair here: an annotator looks
        return Alignment(UNKNOWN, UNKNOWN_MIXED_LABELS, tuple(range(n)))
    scores = [[evidence(s, t) for t in tgt] for s in src]
    best = best_assignment(scores)
    gain = sum(scores[i][j] for i, j in enumerate(best) if j is not None)
    gain -= sum(scores[i][i] for i in range(n))
    moved = [i for i, j in enumerate(best) if j != i]
    if gain >= REJECT_GAIN and all(scores[i][best[i]] >= STRONG for i in moved):  # type: ignore[index]
        return Alignment(MISALIGNED, FACTORS[MISALIGNED], tuple(best))
    if gain >= SUSPECT_GAIN:
        return Alignment(SUSPECT, FACTORS[SUSPECT], tuple(best))
    open_ = [i for i in range(n) if not _confirmed(scores, i)]
    if len(open_) < 2:
        return Alignment(CONFIRMED, 1.0, tuple(best))
    mixed = len({src[i].label for i in open_}) > 1
    return Alignment(UNKNOWN, UNKNOWN_MIXED_LABELS if mixed else UNKNOWN_SAME_LABEL, tuple(best))


def check_alignment(c: Candidate) -> Alignment:
    """The alignment finding for a candidate whose entities are all projected."""
    if any(t is None for t in c.tgt_entities):
        return Alignment(CONFIRMED, 1.0)  # the entity checks already reject it
    return align(c.src_entities, c.tgt_entities)  # type: ignore[arg-type]


class AlignmentCheck(Check):
    """``entity_misaligned``: evidence pairs the entities otherwise than the reply did; the
    finding's factor (score) and the finding itself (details) go into the confidence. Counts
    its findings on candidates with two or more entities (one cannot be swapped)."""

    name = "alignment"
    reasons = (ENTITY_MISALIGNED,)

    def __init__(self, context: CheckContext | None = None) -> None:
        super().__init__(context)
        self.states: Counter[str] = Counter()

    def check(self, c: Candidate, thresholds: FilterSettings) -> Verdict:
        alignment = check_alignment(c)
        if len(c.src_entities) >= 2:
            self.states[alignment.state] += 1
        reasons = (alignment.reason,) if alignment.reason else ()
        return Verdict(reasons, alignment.factor, {"alignment": alignment})

    def figures(self) -> dict[str, object]:
        return {"alignment": dict(sorted(self.states.items()))}
