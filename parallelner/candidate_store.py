"""The candidates of a run: ``DIR/candidates/part-*.parquet``, written atomically, read back.

Each part is written under a temporary name and renamed, so a crash leaves whole parts only;
a rerun reads the ids already written and skips those samples, so every sample appears once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from parallelner.atomic import write_table_atomically
from parallelner.records import CANDIDATE_SCHEMA, Candidate, candidate_from_row, candidate_to_row


class CandidateStore:
    """The candidate parts under ``out_dir/candidates``."""

    def __init__(self, out_dir: Path) -> None:
        self.dir = Path(out_dir) / "candidates"

    def parts(self) -> list[Path]:
        return sorted(self.dir.glob("part-*.parquet"))

    def done_ids(self) -> set[str]:
        """Ids of every candidate already written (what a rerun must not redo)."""
        ids: set[str] = set()
        for part in self.parts():
            ids.update(pq.read_table(part, columns=["id"]).column("id").to_pylist())
        return ids

    def read(self, columns: list[str] | None = None) -> Iterator[Candidate]:
        """Every candidate, part by part."""
        for part in self.parts():
            for batch in pq.ParquetFile(part).iter_batches(batch_size=4096, columns=columns):
                for row in batch.to_pylist():
                    yield candidate_from_row(row)

    def table(self, columns: list[str]) -> pa.Table:
        """Selected columns of every part, as one table (small columns: counts, ids)."""
        tables = [pq.read_table(p, columns=columns) for p in self.parts()]
        if not tables:
            return CANDIDATE_SCHEMA.empty_table().select(columns)
        return pa.concat_tables(tables)

    def labels(self) -> list[str]:
        """The entity labels of the source side, part by part (memory stays flat)."""
        found: set[str] = set()
        for part in self.parts():
            for row in pq.read_table(part, columns=["src_entities"]).column(0).to_pylist():
                found.update(s["label"] for s in row)
        return sorted(found)

    def read_part(self, part: Path) -> list[Candidate]:
        return [candidate_from_row(r) for r in pq.read_table(part).to_pylist()]

    def rewrite_part(self, part: Path, candidates: list[Candidate]) -> None:
        """Replace one part by ``candidates`` (atomically)."""
        rows = [candidate_to_row(c) for c in candidates]
        table = pa.Table.from_pylist(rows, schema=CANDIDATE_SCHEMA)
        write_table_atomically(table, part, compression="zstd")

    def rewrite(self, judge_part: Callable[[list[Candidate]], list[Candidate]]) -> None:
        """Replace every part by ``judge_part`` of its candidates, one part at a time."""
        for part in self.parts():
            self.rewrite_part(part, judge_part(self.read_part(part)))

    def writer(self, rows_per_part: int = 1000) -> PartWriter:
        return PartWriter(self.dir, rows_per_part)


class PartWriter:
    """Buffers candidates and writes a part every ``rows_per_part`` rows and at close."""

    def __init__(self, directory: Path, rows_per_part: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.dir = directory
        self.rows_per_part = rows_per_part
        self._token = secrets.token_hex(4)  # several writers may share a folder
        self._rows: list[dict[str, object]] = []
        self._parts = 0
        self.written = 0

    def add(self, candidate: Candidate) -> None:
        self._rows.append(candidate_to_row(candidate))
        if len(self._rows) >= self.rows_per_part:
            self.flush()

    def add_all(self, candidates: Iterable[Candidate]) -> None:
        for c in candidates:
            self.add(c)

    def flush(self) -> None:
        if not self._rows:
            return
        table = pa.Table.from_pylist(self._rows, schema=CANDIDATE_SCHEMA)
        path = self.dir / f"part-{self._token}-{self._parts:05d}.parquet"
        write_table_atomically(table, path, compression="zstd")
        self._parts += 1
        self.written += len(self._rows)
        self._rows = []

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
