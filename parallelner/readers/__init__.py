"""Readers: annotated corpora in, Samples out. ``read_samples`` picks one per file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from parallelner.errors import InputError
from parallelner.formats import FORMATS, Format
from parallelner.readers.base import Located, OnBadRecord, Quarantine, ReadStats, apply_policy
from parallelner.readers.conll import read_conll
from parallelner.readers.jsonl import read_jsonl
from parallelner.readers.parquet import read_parquet
from parallelner.records import Sample

_BY_SUFFIX = {".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}

__all__ = ["FORMATS", "Format", "Quarantine", "ReadStats", "detect_format", "read_samples"]


def detect_format(path: Path) -> str:
    """The format ``auto`` means for ``path``: by suffix, CoNLL for anything else."""
    return _BY_SUFFIX.get(path.suffix.lower(), "conll")


def _read_file(
    path: Path, fmt: str, lang: str, strict: bool, label_names: list[str] | None
) -> Iterator[Located | InputError]:
    if not path.is_file():
        yield InputError(path, None, "no such file")
        return
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "jsonl":
        yield from read_jsonl(path, lang)
    elif fmt == "parquet":
        yield from read_parquet(path, lang, label_names=label_names, strict=strict)
    else:
        yield from read_conll(path, lang, strict=strict, chars=fmt == "chars")


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
    fmt: Format = "auto",
    on_bad_record: OnBadRecord = "fail",
    quarantine: Quarantine | None = None,
    strict: bool = True,
    label_names: list[str] | None = None,
    limit: int | None = None,
    stats: ReadStats | None = None,
) -> Iterator[Sample]:
    """Samples of every file in ``paths``, ids unique across them, at most ``limit``."""
    stats = stats if stats is not None else ReadStats()
    seen: set[str] = set()
    produced = 0
    if limit is not None and limit <= 0:
        return
    for path in paths:
        records = _unique(_read_file(Path(path), fmt, lang, strict, label_names), path, seen)
        for sample in apply_policy(records, on_bad_record, quarantine, stats):
            produced += 1
            yield sample
            if limit is not None and produced >= limit:
                return  # before reading (and counting) one more
