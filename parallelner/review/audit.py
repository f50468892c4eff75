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
