"""How much a passed candidate can be trusted without review, in (0, 1]: from its attempts, the
checks' scores and how its entities were found. Review routing sends what is under its
threshold (0.9 by default) to an annotator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from parallelner.filters.alignment import Alignment
from parallelner.filters.base import Verdict

#: The confidence factor of each way an entity's span was found (``translation.recovery``):
#: as the model wrote it, normalised, asked in a second short call, located here. A passed
#: pair is scaled by the least certain of its methods, so a pair with an asked or located span
#: always goes to review.
FACTOR = {"model": 1.0, "normalised": 0.92, "asked": 0.8, "located": 0.7}


def confidence_factor(methods: tuple[str | None, ...]) -> float:
    """The factor of the least certain method among ``methods`` (1.0 for none)."""
    return min((FACTOR.get(m, 1.0) for m in methods if m), default=1.0)


@dataclass(frozen=True)
class Scores:
    """What a candidate's confidence is made of: the language score, the copied trigram share,
    the length ratio and its band, the alignment check's finding."""

    language: float
    copied: float
    ratio: float
    band: tuple[float, float]
    alignment: Alignment
    # the product of the ``confidence_factor`` any other check gave (one that cannot tell)
    factor: float = 1.0

    @classmethod
    def of(cls, verdicts: Mapping[str, Verdict]) -> Scores:
        """The scores the language, copying, length and alignment checks gave, and the
        factors of the checks that could not tell."""
        length = verdicts["length"]
        factor = 1.0
        for v in verdicts.values():
            factor *= v.details.get("confidence_factor", 1.0)  # type: ignore[operator]
        return cls(
            language=verdicts["language"].score,  # type: ignore[arg-type]
            copied=verdicts["copying"].score,  # type: ignore[arg-type]
            ratio=length.score,  # type: ignore[arg-type]
            band=length.details["band"],  # type: ignore[arg-type]
            alignment=verdicts["alignment"].details["alignment"],  # type: ignore[arg-type]
            factor=factor,
        )


def confidence(
    attempts: int,
    scores: Scores,
    alignment_factor: float | None = None,
    projection: tuple[str | None, ...] = (),
) -> float:
    """How much a passed candidate can be trusted without review: 1.0 is a first-attempt reply
    with a clear language, no copying, a length ratio well inside its band, an entity
    pairing that evidence confirms (``alignment_factor`` overrides the check's factor, as
    when the verification round confirmed the pairing) and every entity found as the model
    wrote it (``projection``: a recovered one scales it by ``FACTOR``)."""
    factor = scores.alignment.factor if alignment_factor is None else alignment_factor
    score = max(0.5, min(1.0, scores.language)) * factor * confidence_factor(projection)
    score *= scores.factor
    score *= 0.85 ** max(0, attempts - 1)
    score *= 1.0 - scores.copied / 2
    lo, hi = scores.band
    if not lo * 1.25 <= scores.ratio <= hi / 1.25:
        score *= 0.85
    return round(score, 4)
