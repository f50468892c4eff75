"""The candidates of a run: ``DIR/candidates/part-*.parquet``, written atomically, read back.

Each part is written under a temporary name and renamed, so a crash leaves whole parts only;
a rerun reads the ids already written and skips those samples, so every sample appears once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from parallelner.errors import InputError
from parallelner.io.atomic import write_table_atomically
from parallelner.records import (
    CANDIDATE_SCHEMA,
    Candidate,
    RecordError,
    candidate_from_row,
    candidate_to_row,
)

#: Columns that parts written by earlier versions lack (read as their defaults).
ADDED_LATER = frozenset({"projection"})


def _retried(status: str, reasons: Iterable[str] | None, redo: tuple[str, ...]) -> bool:
    """Whether a rerun translates a candidate again: it failed, or ``redo`` names one of the
    reasons it was rejected for."""
    return status == "failed" or (status == "rejected" and any(r in redo for r in reasons or ()))


def _bad_part(part: Path, why: str) -> InputError:
    return InputError(
        part, None, f"{why}: not a candidate part of parallelner; move it out of the folder"
    )


class CandidateStore:
    """The candidate parts under ``out_dir/candidates``.

    A part that is truncated, foreign (another schema) or holds an invalid record is an
    InputError naming the file, never a traceback.
    """

    def __init__(self, out_dir: Path) -> None:
        self.dir = Path(out_dir) / "candidates"

    def parts(self) -> list[Path]:
        """The part files, in name order; InputError for one that is not a regular file (a
        FIFO would block every reader, a folder cannot be read)."""
        found = sorted(self.dir.glob("part-*.parquet"))
        for part in found:
            if not part.is_file():
                raise InputError(part, None, "not a regular file: move it out of candidates/")
        return found

    def _table(self, part: Path, columns: list[str] | None = None) -> pa.Table:
        try:
            schema = pq.read_schema(part)
            missing = [
                f.name
                for f in CANDIDATE_SCHEMA
                if f.name not in schema.names and f.name not in ADDED_LATER
            ]
            if missing:
                raise _bad_part(part, f"no column {missing[0]!r}")
            absent = [c for c in columns or () if c not in schema.names]  # ADDED_LATER ones
            table = (
                pq.read_table(part, columns=[c for c in columns if c not in absent])
                if (columns is not None)
                else pq.read_table(part)
            )
            for name in absent:
                field = CANDIDATE_SCHEMA.field(name)
                table = table.append_column(field, pa.nulls(table.num_rows, field.type))
            return table
        except (pa.ArrowException, OSError) as e:
            raise _bad_part(part, f"unreadable ({str(e).splitlines()[0][:120]})") from None

    def _candidates(self, part: Path, rows: Iterable[dict]) -> Iterator[Candidate]:
        for row in rows:
            try:
                yield candidate_from_row(row)
            except (RecordError, KeyError, TypeError, ValueError) as e:
                raise _bad_part(part, f"invalid record {row.get('id')!r} ({e})") from None

    def done_ids(self, parts: list[Path] | None = None) -> set[str]:
        """Ids of every candidate already written (what a rerun must not redo), or of those
        in ``parts``."""
        ids: set[str] = set()
        for part in self.parts() if parts is None else parts:
            ids.update(self._table(part, ["id"]).column("id").to_pylist())
        return ids

    def _retry_columns(self, part: Path, redo: tuple[str, ...]) -> dict[str, list]:
        """id, status and (only when ``redo`` names reasons: the column costs) reasons."""
        table = self._table(part, ["id", "status", "reasons"] if redo else ["id", "status"])
        columns = table.to_pydict()
        columns.setdefault("reasons", [None] * table.num_rows)
        return columns

    def done_and_failed(self, redo: tuple[str, ...] = ()) -> tuple[set[str], set[str]]:
        """Ids of every candidate and of those a run retries (``failed`` ones, and those
        rejected for a reason in ``redo``), in one pass over the parts."""
        done: set[str] = set()
        failed: set[str] = set()
        for part in self.parts():
            table = self._retry_columns(part, redo)
            done.update(table["id"])
            rows = zip(table["id"], table["status"], table["reasons"], strict=True)
            failed.update(i for i, s, r in rows if _retried(s, r, redo))
        return done, failed

    def check_unique(self) -> int:
        """The number of candidates; InputError naming a duplicated id and both its parts."""
        first: dict[str, Path] = {}
        for part in self.parts():
            for cid in self._table(part, ["id"]).column("id").to_pylist():
                if cid in first:
                    raise InputError(
                        part,
                        None,
                        f"candidate {cid!r} is also in {first[cid].name}: a part was copied "
                        "or two runs wrote this folder; remove one of the two parts",
                    )
                first[cid] = part
        return len(first)

    def read(self, columns: list[str] | None = None) -> Iterator[Candidate]:
        """Every candidate, part by part."""
        for part in self.parts():
            self._table(part, ["id"])  # checks the part before streaming it
            try:
                batches = pq.ParquetFile(part).iter_batches(batch_size=4096, columns=columns)
                for batch in batches:
                    yield from self._candidates(part, batch.to_pylist())
            except (pa.ArrowException, OSError) as e:
                raise _bad_part(part, f"unreadable ({str(e).splitlines()[0][:120]})") from None

    def tables(self, columns: list[str]) -> Iterator[pa.Table]:
        """Selected columns of each part as a table, one part in memory at a time."""
        for part in self.parts():
            yield self._table(part, columns)

    def rows(self, columns: list[str]) -> Iterator[dict]:
        """Selected columns of every candidate as dicts, one part in memory at a time."""
        for table in self.tables(columns):
            yield from table.to_pylist()

    def table(self, columns: list[str]) -> pa.Table:
        """Selected columns of every part, as one table (small columns: counts, ids)."""
        tables = list(self.tables(columns))
        if not tables:
            return CANDIDATE_SCHEMA.empty_table().select(columns)
        return pa.concat_tables(tables)

    def labels(self) -> list[str]:
        """The entity labels of the source side, part by part (memory stays flat)."""
        found: set[str] = set()
        for part in self.parts():
            for row in self._table(part, ["src_entities"]).column(0).to_pylist():
                found.update(s["label"] for s in row)
        return sorted(found)

    def read_part(self, part: Path) -> list[Candidate]:
        return list(self._candidates(part, self._table(part).to_pylist()))

    def drop_failed(self, ids: set[str], redo: tuple[str, ...] = ()) -> int:
        """Remove the candidates among ``ids`` that a rerun retries (``failed`` ones, and those
        rejected for a reason in ``redo``), rewriting only the parts that hold one; how many
        were removed."""
        removed = 0
        for part in self.parts():
            table = self._retry_columns(part, redo)
            rows = zip(table["id"], table["status"], table["reasons"], strict=True)
            hits = [
                cid
                for cid, status, reasons in rows
                if cid in ids and _retried(status, reasons, redo)
            ]
            if not hits:
                continue
            keep = [
                c
                for c in self.read_part(part)
                if not (c.id in ids and _retried(c.status, c.reasons, redo))
            ]
            if keep:
                self.rewrite_part(part, keep)
            else:
                part.unlink()
            removed += len(hits)
        return removed

    def rewrite_part(self, part: Path, candidates: list[Candidate]) -> None:
        """Replace one part by ``candidates`` (atomically)."""
        rows = [candidate_to_row(c) for c in candidates]
        table = pa.Table.from_pylist(rows, schema=CANDIDATE_SCHEMA)
        write_table_atomically(table, part, compression="zstd")

    def rewrite(self, judge_part: Callable[[list[Candidate]], list[Candidate]]) -> None:
        """Replace every part by ``judge_part`` of its candidates, one part at a time."""
        for part in self.parts():
            self.rewrite_part(part, judge_part(self.read_part(part)))

    def writer(self, rows_per_part: int = 1000, tag: str = "") -> PartWriter:
        """A writer of new parts; ``tag`` (a partition's) goes into their names."""
        return PartWriter(self.dir, rows_per_part, tag)


class PartWriter:
    """Buffers candidates and writes a part every ``rows_per_part`` rows and at close.

    A full part is written on a thread of its own while the caller goes on (the translate
    loop: Parquet's compression and the file writes release the interpreter lock, and
    pyarrow's first table imports pandas, 0.4-0.7 s that held every reply back when the loop
    did it); one part at a time, so a failed write (a full disk) is raised by the next
    ``add`` that fills a part, or by ``close``, which waits for the last one.
    """

    def __init__(self, directory: Path, rows_per_part: int, tag: str = "") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.dir = directory
        self.rows_per_part = rows_per_part
        self._token = secrets.token_hex(4)  # several writers may share a folder
        if tag:
            self._token = f"{tag}-{self._token}"
        self._rows: list[dict[str, object]] = []
        self._parts = 0
        self.written = 0
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="part-writer")
        self._writing: Future[int] | None = None

    def add(self, candidate: Candidate) -> None:
        self._rows.append(candidate_to_row(candidate))
        if len(self._rows) >= self.rows_per_part:
            self.flush()

    def add_all(self, candidates: Iterable[Candidate]) -> None:
        for c in candidates:
            self.add(c)

    def flush(self) -> None:
        """Hand the buffered rows to the writing thread (after the part before them)."""
        if not self._rows:
            return
        path = self.dir / f"part-{self._token}-{self._parts:05d}.parquet"
        rows, self._rows = self._rows, []
        self._parts += 1
        self._wait()
        self._writing = self._thread.submit(_write_part, rows, path)

    def _wait(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            self.written += writing.result()

    def close(self) -> None:
        try:
            self.flush()
            self._wait()
        finally:
            self._thread.shutdown(wait=True)

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_part(rows: list[dict[str, object]], path: Path) -> int:
    table = pa.Table.from_pylist(rows, schema=CANDIDATE_SCHEMA)
    write_table_atomically(table, path, compression="zstd")
    return len(rows)
