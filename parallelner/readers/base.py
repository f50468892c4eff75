"""What every reader shares: the bad-record policy, the quarantine file and the counts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from parallelner.errors import InputError
from parallelner.records import Sample

OnBadRecord = Literal["fail", "skip"]
#: A sample with the line (or Parquet row) it starts at.
Located = tuple[int, Sample]


@dataclass
class ReadStats:
    """How many samples a read produced and how many bad records it set aside."""

    read: int = 0
    skipped: int = 0
    skipped_by_file: dict[str, int] = field(default_factory=dict)


class Quarantine:
    """Appends each skipped record, with where it was and why, to a JSONL file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = None

    def add(self, error: InputError) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8")
        row = {"path": error.path, "line": error.line, "error": error.message}
        self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def apply_policy(
    records: Iterable[Located | InputError],
    on_bad_record: OnBadRecord,
    quarantine: Quarantine | None,
    stats: ReadStats,
) -> Iterator[Sample]:
    """Yield the samples; raise the first error, or (``skip``) quarantine and count it."""
    for record in records:
        if not isinstance(record, InputError):
            stats.read += 1
            yield record[1]
            continue
        if on_bad_record == "fail":
            raise record
        stats.skipped += 1
        stats.skipped_by_file[record.path] = stats.skipped_by_file.get(record.path, 0) + 1
        if quarantine is not None:
            quarantine.add(record)


def decode_lines(path: Path) -> Iterator[tuple[int, str | InputError]]:
    """Each line of ``path`` (1-based number, text without newline); bad UTF-8 and NUL
    characters are errors; a UTF-8 byte order mark is read, not refused."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as e:
                yield number, InputError(path, number, f"invalid UTF-8 at byte {e.start}")
                continue
            if "\x00" in line:
                col = line.index("\x00") + 1
                yield number, InputError(path, number, f"NUL character at column {col}")
                continue
            yield number, line
