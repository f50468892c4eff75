"""Faults the reference endpoint injects per pair, to test retries, repair and filters.

A fault applies to the first ``times`` requests for its pair (every request when ``times`` is
None), so a transient fault followed by a clean answer and a persistent one are both expressible.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from parallelner.reference.references import Reference

#: Transport faults: the request fails or hangs; the client retries.
TRANSPORT_FAULTS = ("http_500", "http_429", "timeout")
#: Content faults: the request succeeds with a bad reply; repair or a filter must catch it.
CONTENT_FAULTS = (
    "truncated_json",
    "bad_json",
    "untranslated",
    "wrong_language",
    "missing_entity",
    "entity_not_in_translation",
    "swap_entities",
    "empty",
)
FAULT_KINDS = TRANSPORT_FAULTS + CONTENT_FAULTS


@dataclass(frozen=True)
class Fault:
    kind: str  # one of FAULT_KINDS, checked by parse
    times: int | None = None
    retry_after: float = 0.2
    delay: float = 30.0
    swap: tuple[int, int] = (1, 2)  # swap_entities: the ids whose surface forms are exchanged

    @classmethod
    def parse(cls, obj: dict | str) -> Fault:
        """A Fault from ``"kind"``, ``"kind:times"`` or ``{"kind", "times", ...}``."""
        if isinstance(obj, str):
            kind, _, times = obj.partition(":")
            obj = {"kind": kind, "times": int(times) if times else None}
        if obj.get("kind") not in FAULT_KINDS:
            raise ValueError(f"unknown fault {obj.get('kind')!r}; known: {', '.join(FAULT_KINDS)}")
        if "swap" in obj:
            swap = tuple(obj["swap"])
            if len(swap) != 2 or not all(isinstance(i, int) for i in swap):
                raise ValueError(f"swap: {obj['swap']!r} is not two entity ids")
            obj = {**obj, "swap": swap}
        return cls(**obj)


def faulty_content(fault: Fault, ref: Reference, other: Reference | None) -> str:
    """The reply content a content fault puts in place of ``ref``'s clean answer."""
    answer = ref.answer()
    entities: list[dict] = answer["entities"]  # type: ignore[assignment]
    if fault.kind == "truncated_json":
        clean = json.dumps(answer, ensure_ascii=False)
        return clean[: len(clean) // 2]
    if fault.kind == "bad_json":
        return "Sure! Here is the translation: " + ref.target.text
    if fault.kind == "untranslated":
        answer["translation"] = ref.source.text
        answer["entities"] = [
            {"id": i + 1, "text": s.text} for i, s in enumerate(ref.source.entities)
        ]
    elif fault.kind == "wrong_language":
        # Another sentence in the source language: neither a copy nor in the target language.
        answer["translation"] = other.source.text if other else ref.source.text[::-1]
    elif fault.kind == "missing_entity" and entities:
        entities.pop()
    elif fault.kind == "entity_not_in_translation" and entities:
        first = entities[0]["id"] - 1
        entities[0]["text"] = ref.source.entities[first].text + "·X"
    elif fault.kind == "swap_entities":
        _swap_surfaces(entities, fault.swap)
    elif fault.kind == "empty":
        answer["translation"] = ""
    return json.dumps(answer, ensure_ascii=False)


def other_reference(refs: list[Reference], ref: Reference, seed: int = 0) -> Reference | None:
    """A different pair in the same source language, picked deterministically."""
    same = [r for r in refs if r.source.lang == ref.source.lang and r.pair_id != ref.pair_id]
    return random.Random(f"{seed}:{ref.pair_id}").choice(same) if same else None


def _swap_surfaces(entities: list[dict], ids: tuple[int, int]) -> None:
    """Exchange the surface forms of entities ``ids`` (else of the first two in the reply)."""
    by_id = {e["id"]: e for e in entities}
    if all(i in by_id for i in ids):
        a, b = by_id[ids[0]], by_id[ids[1]]
    elif len(entities) >= 2:
        a, b = entities[0], entities[1]
    else:
        return
    a["text"], b["text"] = b["text"], a["text"]
