"""Files written under a temporary name in the same folder, then renamed: a reader (or a crash)
never sees half a file. The temporary name (``.parallelner-tmp-PID.NAME``) is one only we use,
so the cleanup of a killed writer's leftovers (``locks.remove_leftovers``) never touches a user's
own ``.something.tmp``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # pyarrow is imported by the writer that needs it, not by `--help`
    import pyarrow as pa

#: How every temporary file of ours begins.
TMP_PREFIX = ".parallelner-tmp-"


def _tmp(path: Path) -> Path:
    return path.with_name(f"{TMP_PREFIX}{os.getpid()}.{path.name}")


def write_bytes_atomically(path: Path, data: bytes) -> None:
    tmp = _tmp(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # a failed write leaves nothing behind


@contextmanager
def text_file_atomically(path: Path) -> Iterator[TextIO]:
    """A text file written under a temporary name and renamed to ``path`` when the block ends
    without an error (removed otherwise): for output streamed in pieces."""
    tmp = _tmp(path)
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            yield fh
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    write_bytes_atomically(path, text.encode("utf-8"))


def write_table_atomically(table: pa.Table, path: Path, **options: object) -> None:
    """Write ``table`` to ``path`` as Parquet (``options`` go to ``pq.write_table``)."""
    import pyarrow.parquet as pq

    tmp = _tmp(path)
    try:
        pq.write_table(table, tmp, **options)  # type: ignore[arg-type]
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
