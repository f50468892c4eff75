"""Human reference translations, as the reference endpoint's answers.

Built from a pairs JSONL (UNER PUD: ``{"id", "en": {"text", "entities"}, "zh": {...}}``). A
request is matched to a pair by finding one side's sentence, verbatim, on a line of a user
message; the answer is the other side's text, with source entity i mapped to a target entity
by a monotone alignment that prefers equal labels (human translations drop, add and re-type
entities, so some source entities have no counterpart: the reply then leaves them out).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from parallelner.records import Span


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
    """A monotone alignment of source to target entities: same label scores 2, other label 1."""
    n, m = len(src), len(tgt)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            pair = (2 if src[i].label == tgt[j].label else 1) + best[i + 1][j + 1]
            best[i][j] = max(pair, best[i + 1][j], best[i][j + 1])
    links: dict[int, int] = {}
    i = j = 0
    while i < n and j < m:
        if best[i][j] == (2 if src[i].label == tgt[j].label else 1) + best[i + 1][j + 1]:
            links[i] = j
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return links


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
