"""Human reference translations, as the reference endpoint's answers.

Built from a pairs JSONL (UNER PUD: ``{"id", "en": {"text", "entities"}, "zh": {...}}``). A
request is matched to a pair by finding one side's sentence, verbatim, on a line of a user
message; the answer is the other side's text, with source entity i mapped to a target entity
by the pairing that matches the most labels, then keeps relative positions (human translations
drop, add and re-type entities, so some source entities have no counterpart: the reply then
leaves them out).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from parallelner.records import Span
from parallelner.text.assignment import best_assignment
from parallelner.text.chrf import chrf


@dataclass(frozen=True)
class Side:
    lang: str
    text: str
    entities: tuple[Span, ...]


@dataclass(frozen=True)
class Reference:
    """One pair and, for a request in ``source.lang``, its answer."""

    pair_id: str
    source: Side
    target: Side

    def alignment_answer(self) -> dict[str, object]:
        """The verification round's reply: which target text translates each source entity."""
        return {"entities": self.answer()["entities"]}

    def span_answer(self, source_form: str) -> dict[str, object]:
        """recovery's span question: the target text of the entity written ``source_form``
        in the source ("" when it has no counterpart, or no entity is written so)."""
        links = align_entities(self.source.entities, self.target.entities)
        for i, span in enumerate(self.source.entities):
            if span.text == source_form and i in links:
                return {"text": self.target.entities[links[i]].text}
        return {"text": ""}

    def adequacy_answer(self, translation: str) -> dict[str, object]:
        """The adequacy judge's reply: 5 for the human translation, else a score from the
        translation's chrF against it (the faults change or swap what a reply says)."""
        if "".join(translation.split()) == "".join(self.target.text.split()):
            return {"problem": "", "score": 5}
        similar = chrf(translation, self.target.text)
        score = 4 if similar >= 0.8 else 3 if similar >= 0.5 else 2 if similar >= 0.25 else 1
        return {"problem": "differs from the reference translation", "score": score}

    def answer(self) -> dict[str, object]:
        """The joint-translation reply a perfect translator would give for this pair."""
        links = align_entities(self.source.entities, self.target.entities)
        return {
            "translation": self.target.text,
            "entities": [
                {"id": i + 1, "text": self.target.entities[j].text} for i, j in links.items()
            ],
        }


def align_entities(src: tuple[Span, ...], tgt: tuple[Span, ...]) -> dict[int, int]:
    """Source entity -> target entity: the one-to-one pairing that keeps names written the
    same on both sides together and matches the most labels (a pair of equal labels scores 2,
    of different labels 1), ties broken by relative position in the sentence, so entities a
    translation moves keep their partners."""
    if not src or not tgt:
        return {}
    src_len = max(s.end for s in src) or 1
    tgt_len = max(t.end for t in tgt) or 1

    def score(s: Span, t: Span) -> float:
        same_name = 2.0 if s.text.casefold() == t.text.casefold() else 0.0
        label = 2.0 if s.label == t.label else 1.0
        # Squared, not absolute: with |d| two entities far from their partners tie whichever
        # way they pair; with d**2 the order-keeping pairing wins strictly.
        return same_name + label - 0.3 * (s.start / src_len - t.start / tgt_len) ** 2

    scores = [[score(s, t) for t in tgt] for s in src]
    return {i: j for i, j in enumerate(best_assignment(scores)) if j is not None}


def _side(lang: str, obj: dict) -> Side:
    spans = tuple(
        Span(e["start"], e["end"], e["label"], obj["text"][e["start"] : e["end"]])
        for e in sorted(obj["entities"], key=lambda e: (e["start"], e["end"]))
    )
    return Side(lang, obj["text"], spans)


class ReferenceIndex:
    """Every side's sentence of a pairs file, to look requests up by their text."""

    def __init__(self, path: Path) -> None:
        self.by_text: dict[str, Reference] = {}
        self.by_id: dict[str, dict[str, Reference]] = {}
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    self._add(json.loads(line))

    def _add(self, pair: dict) -> None:
        langs = [k for k, v in pair.items() if isinstance(v, dict) and "text" in v]
        if len(langs) != 2:
            return
        a, b = _side(langs[0], pair[langs[0]]), _side(langs[1], pair[langs[1]])
        pid = str(pair["id"])
        for src, tgt in ((a, b), (b, a)):
            ref = Reference(pid, src, tgt)
            self.by_text.setdefault(src.text.strip(), ref)
            self.by_id.setdefault(pid, {})[src.lang] = ref

    def find(self, messages: list[dict]) -> Reference | None:
        """The pair whose sentence stands on a line of a user message, if any."""
        for message in messages:
            if message.get("role") != "user" or not isinstance(message.get("content"), str):
                continue
            for line in message["content"].splitlines():
                ref = self.by_text.get(line.strip())
                if ref is not None:
                    return ref
        return None

    def __len__(self) -> int:
        return len(self.by_id)
