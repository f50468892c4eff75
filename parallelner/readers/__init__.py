"""Readers: annotated corpora in, Samples out. ``read_samples`` picks one per file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from parallelner.errors import InputError
from parallelner.formats import FORMATS, Format, ReadOptions
from parallelner.readers.base import (
    FileReport,
    Located,
    OnBadRecord,
    Quarantine,
    ReadStats,
    UnreadableFile,
    apply_policy,
)
from parallelner.readers.conll import read_conll
from parallelner.readers.jsonl import read_jsonl
from parallelner.records import Sample

_BY_SUFFIX = {".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}

__all__ = [
    "FORMATS",
    "FileReport",
    "Format",
    "Quarantine",
    "ReadOptions",
    "ReadStats",
    "UnreadableFile",
    "detect_format",
    "read_samples",
]


def detect_format(path: Path) -> str:
    """The format ``auto`` means for ``path``: by suffix, else Parquet by its magic bytes,
    JSONL when the first line is a JSON object, CoNLL for anything else."""
    if fmt := _BY_SUFFIX.get(path.suffix.lower()):
        return fmt
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"{"):
        return "jsonl"
    return "conll"


def _read_file(
    path: Path, lang: str, options: ReadOptions, report: FileReport
) -> Iterator[Located | InputError]:
    if not path.is_file():
        why = "a folder, not a file" if path.is_dir() else "no such file"
        yield InputError(path, None, why)
        return
    fmt = detect_format(path) if options.format == "auto" else options.format
    if fmt == "jsonl":
        records = read_jsonl(path, lang, options, report)
    elif fmt == "parquet":
        from parallelner.readers.parquet import read_parquet  # pyarrow, only when needed

        records = read_parquet(path, lang, options, report)
    else:
        records = read_conll(path, lang, options, report)
    empty = True
    for record in records:
        empty = False
        if isinstance(record, InputError):
            report.bad_records += 1
        else:
            report.samples += 1
            for span in record[1].entities:
                report.entities[span.label] = report.entities.get(span.label, 0) + 1
        yield record
    if empty:
        yield InputError(
            path, None, f"no samples in {path}: it is empty or holds only comments or -DOCSTART-"
        )


def _unique(
    records: Iterable[Located | InputError], path: Path, seen: set[str]
) -> Iterator[Located | InputError]:
    for record in records:
        if not isinstance(record, InputError):
            line, sample = record
            if sample.id in seen:
                record = InputError(path, line, f"duplicate id {sample.id!r}")
            else:
                seen.add(sample.id)
        yield record


def read_samples(
    paths: Iterable[Path],
    lang: str,
    *,
    options: ReadOptions | None = None,
    on_bad_record: OnBadRecord = "fail",
    quarantine: Quarantine | None = None,
    limit: int | None = None,
    stats: ReadStats | None = None,
) -> Iterator[Sample]:
    """Samples of every file in ``paths``, ids unique across them, at most ``limit``;
    ``stats.files`` says what each file held and what was normalised."""
    options = options or ReadOptions()
    stats = stats if stats is not None else ReadStats()
    seen: set[str] = set()
    produced = 0
    if limit is not None and limit <= 0:
        return
    for path in paths:
        path = Path(path)
        report = stats.file(path)
        records = _unique(_read_file(path, lang, options, report), path, seen)
        for sample in apply_policy(records, on_bad_record, quarantine, stats):
            produced += 1
            yield sample
            if limit is not None and produced >= limit:
                return  # before reading (and counting) one more
