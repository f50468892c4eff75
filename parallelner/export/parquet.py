"""Parquet shards: ``N`` rows each, written under a temporary name and renamed when complete,
into a version folder of their own (``export/corpus.py``): an unfinished export's folder is
removed whole, by the export itself or by the next one."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from parallelner.io.atomic import TMP_PREFIX
from parallelner.io.checksums import file_sha256

ROW_GROUP = 5000


@dataclass(frozen=True)
class Shard:
    path: Path
    rows: int
    sha256: str


class ShardWriter:
    """Writes rows into ``folder/part-00000.parquet``, ``part-00001`` ..., ``shard_rows`` each,
    streaming row groups so memory holds one row group, not one shard."""

    def __init__(self, folder: Path, schema: pa.Schema, shard_rows: int, suffix: str = "") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.schema, self.shard_rows = folder, schema, shard_rows
        self.prefix = f"part{suffix}"
        self.shards: list[Shard] = []
        self._rows: list[dict] = []
        self._in_shard = 0
        self._writer: pq.ParquetWriter | None = None
        self._tmp: Path | None = None

    def _path(self) -> Path:
        return self.folder / f"{self.prefix}-{len(self.shards):05d}.parquet"

    def add(self, row: dict) -> None:
        self._rows.append(row)
        if len(self._rows) >= min(ROW_GROUP, self.shard_rows - self._in_shard):
            self._write_group()

    def _write_group(self) -> None:
        if not self._rows:
            return
        if self._writer is None:
            self._tmp = self.folder / f"{TMP_PREFIX}{self._path().name}"
            self._writer = pq.ParquetWriter(self._tmp, self.schema, compression="zstd")
        self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self.schema))
        self._in_shard += len(self._rows)
        self._rows = []
        if self._in_shard >= self.shard_rows:
            self._finish_shard()

    def _finish_shard(self) -> None:
        assert self._writer is not None and self._tmp is not None
        self._writer.close()
        final = self._path()
        os.replace(self._tmp, final)
        self.shards.append(Shard(final, self._in_shard, file_sha256(final)))
        self._writer, self._tmp, self._in_shard = None, None, 0

    def close(self) -> list[Shard]:
        """Write what is buffered and finish the last shard; the shards written."""
        self._write_group()
        if self._writer is not None:
            self._finish_shard()
        return self.shards

    def abort(self) -> None:
        """Drop the unfinished shard (finished ones stay, and are whole)."""
        if self._writer is not None:
            self._writer.close()
        if self._tmp is not None and self._tmp.exists():
            self._tmp.unlink()
        self._writer, self._tmp, self._rows = None, None, []
