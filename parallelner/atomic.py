"""Files written under a temporary name in the same folder, then renamed: a reader (or a crash)
never sees half a file."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_bytes_atomically(path: Path, data: bytes) -> None:
    tmp = _tmp(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_text_atomically(path: Path, text: str) -> None:
    write_bytes_atomically(path, text.encode("utf-8"))


def write_table_atomically(table: pa.Table, path: Path, **options: object) -> None:
    """Write ``table`` to ``path`` as Parquet (``options`` go to ``pq.write_table``)."""
    tmp = _tmp(path)
    pq.write_table(table, tmp, **options)  # type: ignore[arg-type]
    os.replace(tmp, path)
