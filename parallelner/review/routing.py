"""Which passed candidates go to people: ``all``, or ``routed`` = every low-confidence pair plus
a seeded random audit sample of the high-confidence ones.

The audit pick hashes (seed, candidate id), so it is the same on every rerun, whatever the order
or the size of the corpus, and needs no state.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from parallelner.records import Candidate

Policy = Literal["all", "routed"]
LOW_CONFIDENCE = "low_confidence"
AUDIT = "audit"
ALL = "all"


def in_audit_sample(candidate_id: str, rate: float, seed: int) -> bool:
    """True for a ``rate`` share of ids, chosen by hash: stable across runs."""
    digest = hashlib.sha256(f"{seed}:{candidate_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def route_for(
    c: Candidate, policy: Policy, low_confidence: float, audit_rate: float, seed: int
) -> str | None:
    """The route of a candidate to review, or None when it is not reviewed."""
    return route_of(c.id, c.status, c.confidence, policy, low_confidence, audit_rate, seed)


def route_of(
    candidate_id: str,
    status: str,
    confidence: float | None,
    policy: Policy,
    low_confidence: float,
    audit_rate: float,
    seed: int,
) -> str | None:
    """route_for on the columns alone (for readers of Parquet rows)."""
    if status != "passed":
        return None
    if policy == "all":
        return ALL
    if confidence is None or confidence < low_confidence:
        return LOW_CONFIDENCE
    return AUDIT if in_audit_sample(candidate_id, audit_rate, seed) else None
