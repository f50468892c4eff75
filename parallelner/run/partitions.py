"""Partitions of a corpus, for runs on several machines into one folder.

Partition ``i/N`` (1 <= i <= N) holds the samples whose id hashes (blake2b, stable across
machines and Python versions, unlike ``hash()``) to ``i - 1`` modulo N: partitions never
overlap, together they hold every sample, and a rerun of ``i/N`` picks the same samples. The
hash is of the sample id, so both directions of a sentence fall in the same partition.

A partition run writes parts named ``part-p<i>of<N>-...`` and, once every sample of its
partition has a candidate, the marker ``OUT/partitions/<src>-<tgt>.p<i>of<N>.json``. The gather
(the export) reads every partition: ``gather_state`` lists the partitions with no marker.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from parallelner.errors import ConfigError
from parallelner.io.atomic import TMP_PREFIX, write_text_atomically
from parallelner.records import Sample

MARKERS = "partitions"
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_PART_TAG = re.compile(r"^part-p(\d+)of(\d+)-")
_MARKER = re.compile(r"^(.+)\.p(\d+)of(\d+)\.json$")  # <src>-<tgt>.p<i>of<N>.json


@dataclass(frozen=True)
class Partition:
    """Partition ``index`` of ``count`` (1-based, as people write it: ``2/4``)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str | None, source: str = "--partition") -> Partition | None:
        """``"2/4"`` -> Partition(2, 4); ``""`` or None -> None (the whole corpus)."""
        if not text:
            return None
        m = _SPEC.match(str(text))
        if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
            raise ConfigError(f"{source} {text!r}: expected i/N with 1 <= i <= N, e.g. 2/4")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def tag(self) -> str:
        """``p2of4``: in part names, lock names and markers."""
        return f"p{self.index}of{self.count}"

    def holds(self, sample_id: str) -> bool:
        digest = hashlib.blake2b(sample_id.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.count == self.index - 1


def select(samples: Iterable[Sample], partition: Partition | None) -> Iterator[Sample]:
    """The samples of ``partition`` (all of them when it is None)."""
    if partition is None:
        yield from samples
        return
    for sample in samples:
        if partition.holds(sample.id):
            yield sample


def part_partition(part: Path) -> Partition | None:
    """The partition a candidate part was written by, from its name (None: no partition)."""
    m = _PART_TAG.match(part.name)
    return Partition(int(m.group(1)), int(m.group(2))) if m else None


def claim_count(out_dir: Path, partition: Partition | None) -> None:
    """Claim the folder's partition count for every run into it (``OUT/partitions/count``):
    the first run's claim wins atomically (a hard link never replaces a file), so two runs
    with different N started at once cannot both go on; a run without partitions is refused
    in a claimed folder, and a partition run in one that holds no claim stakes it."""
    claim = out_dir / MARKERS / "count"
    if partition is None:
        if claim.exists():
            theirs = claim.read_text(encoding="utf-8").strip()
            raise ConfigError(
                f"{out_dir} holds partitions of {theirs} ({claim}): run with "
                f"--partition i/{theirs}, or use another folder"
            )
        return
    claim.parent.mkdir(parents=True, exist_ok=True)
    tmp = claim.with_name(f"{TMP_PREFIX}{os.getpid()}.count")
    tmp.write_text(f"{partition.count}\n", encoding="utf-8")
    try:
        os.link(tmp, claim)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    theirs = claim.read_text(encoding="utf-8").strip()
    if theirs != str(partition.count):
        raise ConfigError(
            f"{out_dir} holds partitions of {theirs} ({claim}), not of "
            f"{partition.count}: use --partition i/{theirs}, or another folder"
        )


def check_folder(parts: Iterable[Path], partition: Partition | None, out_dir: Path) -> None:
    """Refuse to mix partitioned and whole-corpus runs, or two partition counts, in a folder:
    their samples would overlap (the count is claimed first: ``claim_count``)."""
    claim_count(out_dir, partition)
    for part in parts:
        other = part_partition(part)
        if partition is None and other is not None:
            raise ConfigError(
                f"{out_dir} holds partitions of {other.count} ({part.name}): run with "
                f"--partition i/{other.count}, or use another folder"
            )
        if partition is not None and other is None:
            raise ConfigError(
                f"{out_dir} holds candidates of a run without partitions ({part.name}): finish "
                "it without --partition, or use another folder"
            )
        if partition is not None and other is not None and other.count != partition.count:
            raise ConfigError(
                f"{out_dir} holds partitions of {other.count} ({part.name}), not of "
                f"{partition.count}: use --partition i/{other.count}, or another folder"
            )


def mark_finished(out_dir: Path, partition: Partition, pair: str, figures: dict) -> Path:
    """Write the marker saying every sample of ``partition`` (one direction) has a candidate,
    with ``figures``, when and where."""
    path = out_dir / MARKERS / f"{pair}.{partition.tag}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"partition": str(partition), "pair": pair, **figures}
    record["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    record["host"] = os.uname().nodename
    write_text_atomically(path, json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path


@dataclass
class Gathered:
    """What a folder's partitions hold: ``count`` (0: no partitions), the finished partitions
    and the missing ones, per language pair."""

    count: int = 0
    finished: dict[str, list[int]] = field(default_factory=dict)
    missing: dict[str, list[int]] = field(default_factory=dict)

    def complete(self) -> bool:
        return not any(self.missing.values())

    def describe(self) -> str:
        gaps = [
            f"{pair} {', '.join(f'{i}/{self.count}' for i in idx)}"
            for pair, idx in sorted(self.missing.items())
            if idx
        ]
        return "; ".join(gaps)

    def as_dict(self) -> dict:
        return {"count": self.count, "finished": self.finished, "missing": self.missing}


def gather_state(out_dir: Path, allow_missing: bool = False) -> Gathered:
    """The partitions of ``out_dir`` (none: ``Gathered()``, without reading a candidate);
    ConfigError naming the unfinished ones, unless ``allow_missing``."""
    from parallelner.run.candidate_store import CandidateStore

    store = CandidateStore(out_dir)
    parts = store.parts()
    counts = {p.count for p in map(part_partition, parts) if p is not None}
    finished: dict[str, set[int]] = {}
    folder = out_dir / MARKERS
    for marker in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        m = _MARKER.match(marker.name)
        if m:
            counts.add(int(m.group(3)))
            finished.setdefault(m.group(1), set()).add(int(m.group(2)))
    if not counts:
        return Gathered()
    if len(counts) > 1:
        raise ConfigError(
            f"{out_dir} mixes partition counts {sorted(counts)}: runs of different --partition "
            "i/N wrote into it; gather one count per folder"
        )
    count = counts.pop()
    every = set(range(1, count + 1))
    pairs = {f"{r['src_lang']}-{r['tgt_lang']}" for r in store.rows(["src_lang", "tgt_lang"])}
    names = sorted(pairs | set(finished))
    gathered = Gathered(
        count=count,
        finished={p: sorted(finished.get(p, set())) for p in names},
        missing={p: sorted(every - finished.get(p, set())) for p in names},
    )
    if not gathered.complete() and not allow_missing:
        raise ConfigError(
            f"{out_dir}: partitions not finished: {gathered.describe()} (of "
            f"{gathered.count}); run them, or export with --allow-missing to ship the "
            "others (the manifest lists what is missing)"
        )
    return gathered
