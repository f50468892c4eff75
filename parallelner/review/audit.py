"""How good is the part of the corpus nobody reviewed? An estimate from the audit sample.

The audit sample is a seeded random share of the high-confidence pairs, reviewed like the rest.
Its approval rate estimates the precision of the auto-accepted pairs, with a Wilson 95 %
interval, so annotator effort (low-confidence pairs fixed) and corpus quality (what slips
through unreviewed) can be told apart.

>>> round(wilson_interval(45, 50)[0], 3), round(wilson_interval(45, 50)[1], 3)
(0.786, 0.957)
"""

from __future__ import annotations

import math


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95 % for z = 1.96); (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def precision_estimate(approved: int, reviewed: int, auto_accepted: int) -> dict[str, object]:
    """Precision of the auto-accepted pairs from ``approved`` of ``reviewed`` audited ones."""
    low, high = wilson_interval(approved, reviewed)
    point = approved / reviewed if reviewed else None
    return {
        "audited_reviewed": reviewed,
        "audited_approved": approved,
        "precision": None if point is None else round(point, 4),
        "ci95": [round(low, 4), round(high, 4)],
        "auto_accepted": auto_accepted,
        "expected_bad_pairs": None if point is None else round((1 - point) * auto_accepted, 1),
        "expected_bad_pairs_ci95": [
            round((1 - high) * auto_accepted, 1),
            round((1 - low) * auto_accepted, 1),
        ],
    }


def is_number(value: object) -> bool:
    """Whether ``value`` is a JSON number (not a bool): what a figure read back from a file
    must be before a page or a card formats it."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_estimate(audit: object) -> bool:
    """Whether ``audit`` has the shape ``precision_estimate`` writes, with a precision (one
    written by anyone else is not rendered: a shared file system lets every node write it)."""
    if not isinstance(audit, dict):
        return False
    names = ("audited_approved", "audited_reviewed", "auto_accepted", "precision")
    pairs = [audit.get("ci95"), audit.get("expected_bad_pairs_ci95")]
    return all(is_number(audit.get(n)) for n in names) and all(
        isinstance(p, list | tuple) and len(p) == 2 and all(map(is_number, p)) for p in pairs
    )


def estimate_sentence(audit: dict) -> str:
    """``9 of 10 audited pairs approved: precision of the 143 auto-accepted pairs 90.0% (95%
    Wilson interval 59.6% to 98.2%); expected bad pairs among them 3 to 58``."""
    low, high = audit["ci95"]
    bad_low, bad_high = audit["expected_bad_pairs_ci95"]
    return (
        f"{audit['audited_approved']} of {audit['audited_reviewed']} audited pairs approved: "
        f"precision of the {audit['auto_accepted']:,} auto-accepted pairs "
        f"{audit['precision']:.1%} (95% Wilson interval {low:.1%} to {high:.1%}); expected bad "
        f"pairs among them {bad_low:.0f} to {bad_high:.0f}"
    )
