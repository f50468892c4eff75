"""The reply itself: one that was no reply of the contract (``malformed_reply``), or whose
translation is empty (``empty``). Both are gates: a pair without a translation has nothing for
the other checks to look at.

Whether a reply parsed is the translation stage's finding, kept in the candidate's reasons (the
raw reply is parsed once, when it arrives, not again by every judge).
"""

from __future__ import annotations

from parallelner.config import FilterSettings
from parallelner.filters.base import PASS, Check, Verdict
from parallelner.reasons import EMPTY, MALFORMED_REPLY
from parallelner.records import Candidate


class MalformedReplyCheck(Check):
    """``malformed_reply``: no reply of the contract came back in any round."""

    name = "reply"
    reasons = (MALFORMED_REPLY,)
    gate = True

    def check(self, c: Candidate, thresholds: FilterSettings) -> Verdict:
        return Verdict((MALFORMED_REPLY,)) if MALFORMED_REPLY in c.reasons else PASS


class EmptyCheck(Check):
    """``empty``: the reply's translation is empty or blank."""

    name = "empty"
    reasons = (EMPTY,)
    gate = True

    def check(self, c: Candidate, thresholds: FilterSettings) -> Verdict:
        return Verdict((EMPTY,)) if not c.tgt_text.strip() else PASS
