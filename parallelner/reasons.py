"""Every reason code a candidate can carry: one module that translation, projection and the
filters share, so no stage imports another to name a reason. docs/filters.md documents them in
the order of ``REASONS``."""

from __future__ import annotations

WRONG_LANGUAGE = "wrong_language"
UNTRANSLATED = "untranslated"
ENTITY_MISSING = "entity_missing"
ENTITY_NOT_FOUND = "entity_not_found"
ENTITY_OVERLAP = "entity_overlap"
LABEL_COUNT_MISMATCH = "label_count_mismatch"
ENTITY_MISALIGNED = "entity_misaligned"
LENGTH_RATIO = "length_ratio"
EMPTY = "empty"
MALFORMED_REPLY = "malformed_reply"
ROUND_TRIP = "round_trip"
LLM_ERROR = "llm_error"
LEAKED_MARKUP = "leaked_markup"
GLOSSARY_MISMATCH = "glossary_mismatch"

#: Every reason code, in the order docs/filters.md documents them.
REASONS = (
    WRONG_LANGUAGE,
    UNTRANSLATED,
    ENTITY_MISSING,
    ENTITY_NOT_FOUND,
    ENTITY_OVERLAP,
    LABEL_COUNT_MISMATCH,
    ENTITY_MISALIGNED,
    LENGTH_RATIO,
    LEAKED_MARKUP,
    GLOSSARY_MISMATCH,
    EMPTY,
    MALFORMED_REPLY,
    ROUND_TRIP,
    LLM_ERROR,
)
