"""``glossary_mismatch``: an entity the glossary (``--glossary``) has an entry for is rendered
otherwise in the translation. Compared normalised (``glossary.entries.normalise``), so case,
width and spacing do not count; a different word does.

Where the target language inflects names (Russian "Москвы" is Moscow's genitive, German
"Merkels"), a form other than the entry's may be the same name in another case: the check
cannot tell, says so (``unknown``), and lowers the pair's confidence to ``UNKNOWN`` of itself,
which sends it to review. It decides for the languages in ``DECISIVE``, which write a name the
same way in every sentence.

Rejected, not routed to review: a pair that contradicts the glossary teaches the very
inconsistency the glossary exists to remove, and a run with the glossary asks for the
required form in the prompt, so a mismatch is the model ignoring it. The rejection keeps its
reason, and ``translate --retranslate glossary_mismatch`` translates those pairs again.
"""

from __future__ import annotations

from collections import Counter

from parallelner.config import FilterSettings
from parallelner.filters.base import PASS, Check, CheckContext, Verdict
from parallelner.reasons import GLOSSARY_MISMATCH
from parallelner.records import Candidate, primary_language

#: Target languages (primary subtags) that write a name the same way in every sentence, so a
#: different form is a different rendering.
DECISIVE = frozenset({"zh", "ja", "ko", "th", "vi", "en", "fr", "es", "it", "pt", "ca", "id", "ms"})
#: The confidence factor of a pair whose governed entity the check cannot judge.
UNKNOWN = 0.85


class GlossaryCheck(Check):
    """``glossary_mismatch``: a projected form that contradicts the glossary's entry."""

    name = "glossary"
    reasons = (GLOSSARY_MISMATCH,)

    def __init__(self, context: CheckContext | None = None) -> None:
        super().__init__(context)
        self.governed: Counter[str] = Counter()  # entities with an entry: agree, mismatch

    def check(self, c: Candidate, thresholds: FilterSettings) -> Verdict:
        glossary = self.context.glossary
        if not len(glossary):
            return PASS
        pair = f"{c.src_lang}-{c.tgt_lang}"
        decisive = primary_language(c.tgt_lang) in DECISIVE
        mismatched = []
        for src, tgt in zip(c.src_entities, c.tgt_entities, strict=True):
            entry = glossary.lookup(pair, src.label, src.text)
            if entry is None or tgt is None:
                continue
            if glossary.agrees(entry, tgt.text):
                self.governed["agree"] += 1
                continue
            self.governed["mismatch" if decisive else "unknown"] += 1
            mismatched.append(f"{src.text} -> {tgt.text} (glossary: {entry.target})")
        if not mismatched:
            return PASS
        if decisive:
            return Verdict((GLOSSARY_MISMATCH,), details={"mismatched": mismatched})
        return Verdict(details={"unknown": mismatched, "confidence_factor": UNKNOWN})

    def figures(self) -> dict[str, object]:
        glossary = self.context.glossary
        if not len(glossary):
            return {"glossary": None}
        return {
            "glossary": {
                "entries": len(glossary),
                "sha256": glossary.digest(),
                "entities_agree": self.governed["agree"],
                "entities_mismatch": self.governed["mismatch"],
                "entities_unknown": self.governed["unknown"],
            }
        }
