"""One writer per folder (and per review project): an OS file lock, released when the process
dies, however it dies.

``hold(folder, command)`` takes ``folder/.parallelner.lock`` with ``flock``; a second process
refuses at once with one line naming the holder's PID, its command and the folder. Inside one
process the lock is re-entrant (a Prefect flow's shard tasks are threads that share a run
folder by design: each writes its own parts). The first time a process takes a folder's lock it
removes the temporary files that a killed writer left behind (nobody else can be writing).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".parallelner.lock"
#: Temporary files of atomic writes (``.NAME.tmp-PID``) and of shard exports (``.NAME.tmp``).
_LEFTOVERS = (".*.tmp-*", ".*.tmp")


class LockHeld(Exception):
    """Another process holds the lock; the message names it and the folder."""


_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth), for this process
_guard = threading.Lock()


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    pid = info.get("pid", "?")
    command = info.get("command", "another parallelner command")
    return f"PID {pid} ({command})"


def remove_leftovers(folder: Path) -> int:
    """Delete the temporary files of killed writers under ``folder``; how many there were."""
    removed = 0
    for pattern in _LEFTOVERS:
        for tmp in folder.rglob(pattern):
            if tmp.is_file() and tmp.name != LOCK_NAME:
                tmp.unlink(missing_ok=True)
                removed += 1
    return removed


@contextmanager
def hold(folder: Path, command: str, *, what: str | None = None) -> Iterator[None]:
    """Hold ``folder``'s lock for the block; LockHeld at once if another process has it.

    what: how to name the locked thing in the message (default: the folder).
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    key = str(path.resolve())
    with _guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
        else:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise LockHeld(
                    f"{what or folder} is in use by {_holder(path)}: wait for it to finish "
                    "(or stop it), then rerun"
                ) from None
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"pid": os.getpid(), "command": command}).encode())
            _held[key] = (fd, 1)
            if what is None:  # under the guard: no thread of ours writes while we clean
                remove_leftovers(folder)
    try:
        yield
    finally:
        with _guard:
            fd, depth = _held[key]
            if depth > 1:
                _held[key] = (fd, depth - 1)
            else:
                del _held[key]
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)


def project_lock_dir(server_url: str, project: str) -> Path:
    """A folder whose lock stands for one Label Studio project on this machine."""
    digest = hashlib.sha256(f"{server_url.rstrip('/')}\n{project}".encode()).hexdigest()[:16]
    base = Path(tempfile.gettempdir()) / f"parallelner-locks-{os.getuid()}"
    base.mkdir(mode=0o700, exist_ok=True)
    return base / digest
