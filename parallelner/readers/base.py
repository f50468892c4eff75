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
#: Bad records whose messages a read keeps for its report (all are counted).
KEEP_BAD = 5


class UnreadableFile(InputError):
    """The whole file cannot be read as asked (another format, no tag column, two of them):
    raised at once, never set aside as one bad record."""


@dataclass
class FileReport:
    """What a read found in one file: its layout, what it normalised (with counts), totals."""

    path: str
    format: str = ""
    scheme: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    normalised: dict[str, int] = field(default_factory=dict)
    samples: int = 0
    tokens: int | None = None  # None: the layout has no tokens (text + character spans)
    entities: dict[str, int] = field(default_factory=dict)
    bad_records: int = 0

    def note(self, what: str, count: int = 1) -> None:
        """Count ``count`` more of a normalisation (``"language prefix 'en:' removed"``)."""
        if count:
            self.normalised[what] = self.normalised.get(what, 0) + count

    def add_tokens(self, count: int) -> None:
        self.tokens = (self.tokens or 0) + count


@dataclass
class ReadStats:
    """How many samples a read produced and how many bad records it set aside, and what
    each file held (``files``, by path)."""

    read: int = 0
    skipped: int = 0
    skipped_by_file: dict[str, int] = field(default_factory=dict)
    files: dict[str, FileReport] = field(default_factory=dict)
    bad: list[InputError] = field(default_factory=list)  # the first KEEP_BAD bad records

    def file(self, path: Path) -> FileReport:
        """The report of ``path``, made on first use."""
        key = str(path)
        if key not in self.files:
            self.files[key] = FileReport(key)
        return self.files[key]

    def normalised(self) -> dict[str, int]:
        """Every file's normalisations added up."""
        out: dict[str, int] = {}
        for report in self.files.values():
            for what, count in report.normalised.items():
                out[what] = out.get(what, 0) + count
        return out


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
        if on_bad_record == "fail" or isinstance(record, UnreadableFile):
            raise record
        stats.skipped += 1
        stats.skipped_by_file[record.path] = stats.skipped_by_file.get(record.path, 0) + 1
        if len(stats.bad) < KEEP_BAD:
            stats.bad.append(record)
        if quarantine is not None:
            quarantine.add(record)


def _physical_lines(path: Path) -> Iterator[bytes]:
    """The lines of ``path`` without their ends: LF, CRLF and a lone CR (old Mac files) alike."""
    with path.open("rb") as fh:
        for raw in fh:
            raw = raw.rstrip(b"\n").removesuffix(b"\r")
            if b"\r" in raw:
                yield from raw.split(b"\r")
            else:
                yield raw


def decode_lines(path: Path) -> Iterator[tuple[int, str | InputError]]:
    """Each line of ``path`` (1-based number, text without its end); bad UTF-8 and NUL
    characters are errors; a UTF-8 byte order mark is read, not refused."""
    for number, raw in enumerate(_physical_lines(path), start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield number, InputError(path, number, f"invalid UTF-8 at byte {e.start}")
            continue
        if "\x00" in line:
            col = line.index("\x00") + 1
            yield number, InputError(path, number, f"NUL character at column {col}")
            continue
        yield number, line
