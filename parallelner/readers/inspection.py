"""What a read finds, without translating: ``parallelner inspect``.

Reads exactly as ``translate`` would (the same ``ReadOptions``), bad records set aside and
counted rather than stopping the read, and optionally writes the samples as JSONL in the
schema the JSONL reader takes, so converting a corpus is one command.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from parallelner.errors import InputError
from parallelner.formats import ReadOptions
from parallelner.io.atomic import text_file_atomically
from parallelner.readers import ReadStats, read_samples
from parallelner.records import Sample

#: Sentences an inspection shows.
SHOWN = 3


@dataclass
class Inspection:
    """The read's figures, file by file, and its first sentences."""

    stats: ReadStats
    first: list[Sample] = field(default_factory=list)
    dumped: Path | None = None

    @property
    def samples(self) -> int:
        return self.stats.read

    def entities(self) -> dict[str, int]:
        """Entities per label over every file, most frequent first."""
        out: dict[str, int] = {}
        for report in self.stats.files.values():
            for label, n in report.entities.items():
                out[label] = out.get(label, 0) + n
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    def as_json(self) -> dict[str, object]:
        """Everything ``--json`` prints."""
        return {
            "files": [asdict(r) for r in self.stats.files.values()],
            "samples": self.samples,
            "entities": self.entities(),
            "bad_records": self.stats.skipped,
            "first_bad_records": [
                {"path": e.path, "line": e.line, "error": e.message} for e in self.stats.bad
            ],
            "first": [sample_json(s) for s in self.first],
            "dump": str(self.dumped) if self.dumped else None,
        }


def sample_json(sample: Sample) -> dict[str, object]:
    """One sample in the JSONL reader's native schema."""
    return {
        "id": sample.id,
        "lang": sample.lang,
        "text": sample.text,
        "entities": [
            {"start": e.start, "end": e.end, "label": e.label, "text": e.text}
            for e in sample.entities
        ],
    }


def marked(sample: Sample) -> str:
    """The sentence with its entities in brackets, the label after: ``[Jesu]PER``."""
    parts, pos = [], 0
    for e in sorted(sample.entities, key=lambda e: e.start):
        parts += [sample.text[pos : e.start], f"[{sample.text[e.start : e.end]}]{e.label}"]
        pos = e.end
    return "".join(parts) + sample.text[pos:]


def inspect_files(
    paths: Iterable[Path],
    lang: str,
    options: ReadOptions,
    *,
    limit: int | None = None,
    dump: Path | None = None,
) -> Inspection:
    """Read ``paths`` as translate would, keep the first sentences, count everything; write
    every sample to ``dump`` (JSONL) when given. InputError for a file that reads no sample."""
    paths = [Path(p) for p in paths]
    if dump is not None and dump.is_dir():
        raise InputError(dump, None, "--dump names a folder; give a file, e.g. samples.jsonl")
    stats = ReadStats()
    result = Inspection(stats)
    samples = read_samples(
        paths, lang, options=options, on_bad_record="skip", stats=stats, limit=limit
    )
    if dump is None:
        for sample in samples:
            _keep(result, sample)
    else:
        with text_file_atomically(dump) as fh:
            for sample in _kept(result, samples):
                fh.write(json.dumps(sample_json(sample), ensure_ascii=False) + "\n")
            _refuse_empty(result, paths)
        result.dumped = dump
    _refuse_empty(result, paths)
    return result


def _keep(result: Inspection, sample: Sample) -> None:
    if len(result.first) < SHOWN:
        result.first.append(sample)


def _kept(result: Inspection, samples: Iterator[Sample]) -> Iterator[Sample]:
    for sample in samples:
        _keep(result, sample)
        yield sample


def _refuse_empty(result: Inspection, paths: list[Path]) -> None:
    """A file that gave no sample at all is unreadable as asked: its first error, one line."""
    for path in paths:
        report = result.stats.files.get(str(path))
        if report is not None and report.samples == 0:
            first = next((e for e in result.stats.bad if e.path == str(path)), None)
            raise first or InputError(path, None, f"no samples in {path}")
