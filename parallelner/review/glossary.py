"""``parallelner glossary build DIR``: the glossary a run proposes, from its own renderings and
from what reviewers corrected.

- ``majority``: each entity that repeats across the folder's passed pairs of a direction, where
  one rendering is clearly the most frequent (at least ``min_share`` of its pairs; 0.6 by
  default, so a 1:1 split proposes nothing).
- ``review``: an annotator's correction of a target span (a decision ``corrected`` whose span
  for a source entity reads otherwise than the projection): the corrected form. It outranks a
  majority, as a user's entry (``--glossary``, kept as it is) outranks both.

A corrected span is matched to its source entity by label: the only one of its label, else the
corrected span that overlaps the entity's projection most. Where neither tells, no entry is
proposed (counted as ``ambiguous``): never a guess.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from parallelner.glossary import MIN_SHARE
from parallelner.glossary.consistency import COLUMNS, consistency
from parallelner.glossary.entries import Glossary, GlossaryEntry, normalise
from parallelner.review.jobs import read_decisions
from parallelner.run.candidate_store import CandidateStore


@dataclass
class Proposal:
    """What ``glossary build`` found: the glossary, and how many entries came from where."""

    glossary: Glossary
    majority: int = 0  # entries proposed from the run's own renderings
    review: int = 0  # ... from reviewers' corrections
    user: int = 0  # ... kept from the glossary given
    unclear: int = 0  # repeated entities with no clear majority
    ambiguous: int = 0  # corrected spans that could not be matched to one source entity
    overruled: list[str] = field(default_factory=list)  # majorities a correction replaced

    def as_dict(self) -> dict[str, object]:
        return {
            "entries": len(self.glossary),
            "majority": self.majority,
            "review": self.review,
            "user": self.user,
            "unclear": self.unclear,
            "ambiguous": self.ambiguous,
            "overruled": self.overruled,
        }


def majority_entries(
    out_dir: Path, min_share: float = MIN_SHARE
) -> tuple[list[GlossaryEntry], int]:
    """An entry for every repeated entity whose most frequent rendering has ``min_share`` of
    its pairs; and how many repeated entities had no such rendering."""
    rows = CandidateStore(out_dir).rows(COLUMNS)
    entries, unclear = [], 0
    for pair, figures in consistency(rows).items():
        for entity in figures.all_repeated:
            target, share = entity.majority
            if share >= min_share and share * entity.pairs >= 2:
                entries.append(GlossaryEntry(entity.source, entity.label, pair, target, "majority"))
            else:
                unclear += 1
    return entries, unclear


def review_entries(out_dir: Path) -> tuple[list[GlossaryEntry], int]:
    """An entry for every source entity whose target span a reviewer corrected; and how many
    corrected spans could not be matched to one source entity."""
    corrected = {
        d["id"]: d
        for d in read_decisions(out_dir).to_pylist()
        if d["review_status"] == "corrected" and d["review_tgt_entities"]
    }
    if not corrected:
        return [], 0
    votes: dict[tuple[str, str, str], Counter[str]] = {}
    sources: dict[tuple[str, str, str], str] = {}
    ambiguous = 0
    columns = ["id", "src_lang", "tgt_lang", "src_entities", "tgt_entities"]
    for row in CandidateStore(out_dir).rows(columns):
        decision = corrected.get(row["id"])
        if decision is None:
            continue
        pair = f"{row['src_lang']}-{row['tgt_lang']}"
        fixed = decision["review_tgt_entities"]
        for src, projected in zip(row["src_entities"], row["tgt_entities"], strict=True):
            span = _corrected_span(src, projected, fixed)
            if span is None:
                ambiguous += 1
                continue
            if projected is not None and normalise(projected["text"]) == normalise(span["text"]):
                continue  # the reviewer kept this one as it was
            key = (pair, src["label"], normalise(src["text"]))
            sources.setdefault(key, src["text"])
            votes.setdefault(key, Counter())[span["text"]] += 1
    entries = [
        GlossaryEntry(sources[key], key[1], key[0], count.most_common(1)[0][0], "review")
        for key, count in votes.items()
    ]
    return entries, ambiguous


def _corrected_span(src: dict, projected: dict | None, fixed: list[dict]) -> dict | None:
    """The corrected span that renders ``src``: the only one of its label, else the one that
    overlaps its projection most (None when that does not tell)."""
    same = [s for s in fixed if s["label"] == src["label"]]
    if len(same) == 1:
        return same[0]
    if projected is None or not same:
        return None
    overlap = [
        (min(s["end"], projected["end"]) - max(s["start"], projected["start"]), i)
        for i, s in enumerate(same)
    ]
    best = sorted(overlap, reverse=True)
    if best[0][0] <= 0 or (len(best) > 1 and best[1][0] == best[0][0]):
        return None
    return same[best[0][1]]


def propose_glossary(
    out_dir: Path, given: Glossary | None = None, min_share: float = MIN_SHARE
) -> Proposal:
    """The glossary ``out_dir`` proposes: ``given``'s entries kept, reviewers' corrections,
    then the run's clear majorities, the stronger origin winning for one entity."""
    majority, unclear = majority_entries(out_dir, min_share)
    review, ambiguous = review_entries(out_dir)
    kept = list(given or ())
    glossary = Glossary.of([*kept, *review, *majority])
    by_key = {e.key: e for e in majority}
    overruled = [
        f"{e.source} [{e.label}] {e.pair}: {by_key[e.key].target} -> {e.target}"
        for e in review
        if e.key in by_key and normalise(by_key[e.key].target) != normalise(e.target)
    ]
    won = Counter(e.origin for e in glossary)
    return Proposal(
        glossary,
        majority=won["majority"],
        review=won["review"],
        user=won["user"],
        unclear=unclear,
        ambiguous=ambiguous,
        overruled=overruled,
    )
