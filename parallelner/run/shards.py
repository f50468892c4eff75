"""Split a corpus into shards of samples for parallel, resumable work (the flows' tasks).

A shard is a native JSONL file with its sha256: the same inputs give the same shards, so a
content-keyed cache recognises finished ones on a rerun.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from parallelner.io.atomic import write_bytes_atomically
from parallelner.records import Sample


@dataclass(frozen=True)
class ShardSpec:
    """One shard file of one direction."""

    path: str
    sha256: str
    samples: int
    src_lang: str
    tgt_lang: str
    index: int


def sample_line(s: Sample) -> str:
    """A sample in the native JSONL format (what ``read_jsonl`` reads back)."""
    entities = [
        {"start": e.start, "end": e.end, "label": e.label, "text": e.text} for e in s.entities
    ]
    return (
        json.dumps(
            {"id": s.id, "lang": s.lang, "text": s.text, "entities": entities}, ensure_ascii=False
        )
        + "\n"
    )


def write_shards(
    samples: Iterable[Sample], folder: Path, shard_size: int, src_lang: str, tgt_lang: str
) -> list[ShardSpec]:
    """Write ``samples`` into ``folder/shard-00000.jsonl``, ... of ``shard_size`` samples."""
    folder.mkdir(parents=True, exist_ok=True)
    specs: list[ShardSpec] = []
    lines: list[str] = []

    def flush() -> None:
        path = folder / f"shard-{len(specs):05d}.jsonl"
        data = "".join(lines).encode("utf-8")
        write_bytes_atomically(path, data)
        digest = hashlib.sha256(data).hexdigest()
        specs.append(ShardSpec(str(path), digest, len(lines), src_lang, tgt_lang, len(specs)))
        lines.clear()

    for sample in samples:
        lines.append(sample_line(sample))
        if len(lines) >= shard_size:
            flush()
    if lines:
        flush()
    for stale in sorted(folder.glob("shard-*.jsonl"))[len(specs) :]:
        stale.unlink()
    return specs


def runs_of_shards(shards: list[ShardSpec], per_direction: int) -> list[list[ShardSpec]]:
    """Each direction's shards as ``per_direction`` runs of consecutive shards whose shard
    counts differ by one at most (fewer runs when there are fewer shards), directions in the
    order given."""
    by_pair: dict[tuple[str, str], list[ShardSpec]] = {}
    for shard in shards:
        by_pair.setdefault((shard.src_lang, shard.tgt_lang), []).append(shard)
    runs: list[list[ShardSpec]] = []
    for group in by_pair.values():
        count = min(per_direction, len(group))
        size, longer = divmod(len(group), count)
        start = 0
        for i in range(count):
            end = start + size + (i < longer)
            runs.append(group[start:end])
            start = end
    return runs
