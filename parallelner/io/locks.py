"""One writer per folder (and per review project): an OS file lock, released when the process
dies, however it dies.

``hold(folder, command)`` takes ``folder/.parallelner.lock`` with ``flock``; a second process
refuses at once with one line naming the holder's PID, its command and the folder. A run of
one partition (``partition="p2of4"``) shares the folder's lock with the other partitions' runs
and holds its partition's own lock alone. Inside one process the lock is re-entrant (threads
of one process, e.g. a flow's tasks on a thread runner, share a run folder by design: each
writes its own parts). The first time a process takes a folder's lock it removes the temporary
files that a killed writer left behind (nobody else can be writing): only files whose name
begins with ``.parallelner-tmp-`` (``atomic.TMP_PREFIX``, a name only we use), and never under a
subfolder that has a lock of its own (another export or run, with its own writer).
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

from parallelner.io.atomic import TMP_PREFIX

LOCK_NAME = ".parallelner.lock"


class LockHeld(Exception):
    """Another process holds the lock; the message names it and the folder."""


_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth), for this process
_guard = threading.Lock()


def _holder(path: Path) -> str:
    if path.name == LOCK_NAME:  # held shared by partition runs? name them
        running = [_holder(p) for p in sorted(path.parent.glob(".parallelner.p*.lock")) if _busy(p)]
        if running:
            return "partition runs: " + ", ".join(running)
    return _recorded(path)


def _busy(path: Path) -> bool:
    """Whether another process holds ``path`` (checked by trying it)."""
    if str(path.resolve()) in _held:
        return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _recorded(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    pid = info.get("pid", "?")
    command = info.get("command", "another parallelner command")
    return f"PID {pid} ({command})"


def remove_leftovers(folder: Path, containing: str = "") -> int:
    """Delete the temporary files of killed writers of ours under ``folder`` (only those whose
    name holds ``containing``; not under a subfolder with its own lock); how many there were."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:  # gone, or not ours to read
        return 0
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if not os.path.exists(os.path.join(entry.path, LOCK_NAME)):
                removed += remove_leftovers(Path(entry.path), containing)
        elif entry.name.startswith(TMP_PREFIX) and containing in entry.name:
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed


@contextmanager
def hold(
    folder: Path, command: str, *, what: str | None = None, partition: str | None = None
) -> Iterator[None]:
    """Hold ``folder``'s lock for the block; LockHeld at once if another process has it.

    what: how to name the locked thing in the message (default: the folder).
    partition: a partition's tag (``p2of4``): the folder's lock is shared with the runs of the
    other partitions (a whole-folder command still waits for all of them to end), and the
    partition's own lock is exclusive.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if partition is None:
        # a review project's lock (``what``) stands for the project: no files of its own
        leftovers = "" if what is None else None  # "": every leftover under the folder
        with _lock(folder / LOCK_NAME, command, what or str(folder), leftovers=leftovers):
            yield
        return
    own = folder / f".parallelner.{partition}.lock"
    name = f"partition {partition} of {what or folder}"
    with (
        _lock(folder / LOCK_NAME, command, what or str(folder), shared=True),
        _lock(own, command, name, leftovers=f"-{partition}-"),  # its parts' temporary files
    ):
        yield


@contextmanager
def _lock(
    path: Path,
    command: str,
    name: str,
    *,
    shared: bool = False,
    leftovers: str | None = None,
) -> Iterator[None]:
    """flock ``path`` (shared or exclusive), re-entrant in this process; the exclusive holder
    writes its PID and command into it and, unless ``leftovers`` is None, removes what killed
    writers left in the folder (the temporary files whose name holds ``leftovers``)."""
    key = str(path.resolve())
    with _guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
        else:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise LockHeld(
                    f"{name} is in use by {_holder(path)}: wait for it to finish "
                    "(or stop it), then rerun"
                ) from None
            if not shared:
                os.ftruncate(fd, 0)
                os.write(fd, json.dumps({"pid": os.getpid(), "command": command}).encode())
            _held[key] = (fd, 1)
            if leftovers is not None:  # under the guard: no thread of ours writes meanwhile
                remove_leftovers(path.parent, leftovers)
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
