"""How consistently a run renders the entities that repeat across its pairs.

For every source entity (normalised surface and label) that occurs in two or more passed pairs
of a direction: its target renderings with counts. A trainer wants one: 克林顿 for "Clinton" in
one pair, 柯林頓 in another is noise. ``share`` is the part of the repeated entities rendered one
way; ``variants`` the entities rendered more than one way, most frequent first.

>>> rows = [
...     {"status": "passed", "src_lang": "en", "tgt_lang": "zh",
...      "src_entities": [{"label": "PER", "text": "Clinton"}],
...      "tgt_entities": [{"label": "PER", "text": t}]}
...     for t in ("克林顿", "克林顿", "柯林頓")
... ]
>>> c = consistency(rows)["en-zh"]
>>> c.repeated, c.one_way, c.variants[0].renderings
(1, 0, {'克林顿': 2, '柯林頓': 1})
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from parallelner.glossary.entries import normalise

#: The columns of a candidate that consistency reads.
COLUMNS = ["status", "src_lang", "tgt_lang", "src_entities", "tgt_entities"]
#: How many variants report.json lists per pair (the page and ``glossary show`` fewer).
MAX_VARIANTS = 50


@dataclass
class Renderings:
    """One source entity of a direction and how its pairs render it."""

    source: str  # as first seen
    label: str
    pairs: int = 0  # passed pairs it occurs in
    renderings: dict[str, int] = field(default_factory=dict)  # target as first seen -> pairs

    @property
    def majority(self) -> tuple[str, float]:
        """The most frequent rendering and its share of the entity's pairs."""
        target, count = max(self.renderings.items(), key=lambda kv: (kv[1], kv[0]))
        return target, count / self.pairs

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "label": self.label,
            "pairs": self.pairs,
            "renderings": self.renderings,
        }


@dataclass
class PairConsistency:
    """One direction's figures: entities seen, those repeated, those rendered one way."""

    pair: str
    entities: int = 0
    repeated: int = 0
    one_way: int = 0
    variants: list[Renderings] = field(default_factory=list)
    all_repeated: list[Renderings] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        """The share of repeated entities rendered one way (None: nothing repeats)."""
        return self.one_way / self.repeated if self.repeated else None

    def as_dict(self, top: int = MAX_VARIANTS) -> dict[str, object]:
        share = self.share
        return {
            "entities": self.entities,
            "repeated": self.repeated,
            "one_way": self.one_way,
            "share_one_way": None if share is None else round(share, 4),
            "variants": [v.as_dict() for v in self.variants[:top]],
            "variants_total": len(self.variants),
        }


class ConsistencyCounter:
    """Counts renderings row by row, so that a reader already going over the candidate rows
    (the report page) needs no second pass; ``figures()`` gives each direction's result."""

    def __init__(self) -> None:
        self._seen: dict[str, dict[tuple[str, str], Renderings]] = {}
        self._forms: dict[tuple[str, tuple[str, str], str], str] = {}  # the first form seen
        self._counts: dict[str, dict[tuple[str, str], Counter[str]]] = {}

    def add(self, row: Mapping[str, object]) -> None:
        """Count one candidate row (one with the ``COLUMNS``; only a passed one counts)."""
        if row["status"] != "passed":
            return
        pair = f"{row['src_lang']}-{row['tgt_lang']}"
        entities = self._seen.setdefault(pair, {})
        in_this_pair: dict[tuple[str, str], set[str]] = {}
        for src, tgt in zip(row["src_entities"], row["tgt_entities"], strict=True):  # type: ignore[call-overload]
            if src is None or tgt is None:
                continue
            key = (src["label"], normalise(src["text"]))
            entities.setdefault(key, Renderings(src["text"], src["label"]))
            shown = self._forms.setdefault((pair, key, normalise(tgt["text"])), tgt["text"])
            in_this_pair.setdefault(key, set()).add(shown)
        for key, shown_here in in_this_pair.items():  # a pair counts once per entity
            entities[key].pairs += 1
            self._counts.setdefault(pair, {}).setdefault(key, Counter()).update(shown_here)

    def figures(self) -> dict[str, PairConsistency]:
        for pair, entities in self._seen.items():
            for key, entity in entities.items():
                entity.renderings = dict(self._counts[pair][key].most_common())
        return {pair: _figures(pair, found) for pair, found in sorted(self._seen.items())}


def consistency(rows: Iterable[Mapping[str, object]]) -> dict[str, PairConsistency]:
    """Each direction's consistency over the passed candidates among ``rows`` (dicts with the
    ``COLUMNS``, as ``CandidateStore.rows`` gives them)."""
    counter = ConsistencyCounter()
    for row in rows:
        counter.add(row)
    return counter.figures()


def _figures(pair: str, entities: dict[tuple[str, str], Renderings]) -> PairConsistency:
    repeated = [e for e in entities.values() if e.pairs >= 2]
    repeated.sort(key=lambda e: (-e.pairs, e.label, e.source))
    variants = [e for e in repeated if len(e.renderings) > 1]
    return PairConsistency(
        pair,
        entities=len(entities),
        repeated=len(repeated),
        one_way=len(repeated) - len(variants),
        variants=variants,
        all_repeated=repeated,
    )
