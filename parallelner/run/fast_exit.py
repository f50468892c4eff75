"""Leaving a process without the interpreter's teardown, once its work is done.

Freeing every module object at exit (openai's thousands of typed models above all, Prefect's in
a flow) takes 0.3-1.5 s after the work is done. ``exit_now`` does what a normal exit does that
matters: threads still running are waited for, atexit handlers run (logging, multiprocessing,
tempfile cleanup, Prefect's event and log workers), the streams are flushed; then the process
ends. Whoever calls it has closed every file it wrote.

``in_pool_worker`` does the same for the worker processes of a process pool (Prefect's
``ProcessPoolTaskRunner``, as its ``initializer``): a flow waits for its pool's workers to exit
before it goes on (1.4 s at the end of a 100k-sample translate flow, most of it teardown).
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import sys
import threading
from multiprocessing import util
from typing import NoReturn

# Below every finalizer multiprocessing registers (a queue's feeder thread is joined at -5):
# the worker's queues have delivered its last results and log records before it ends.
_LAST = -(2**31)


def exit_now(code: int) -> NoReturn:
    """End the process with ``code`` as a normal exit would, without freeing its objects: the
    interpreter's own first steps, in its order (``threading._shutdown`` asks idle thread pools
    to stop, then waits for every non-daemon thread; then the atexit handlers)."""
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`| head`)
            stream.flush()
    os._exit(code)


def in_pool_worker() -> None:
    """In a pool's worker process (a pool ``initializer``): end it with ``exit_now(0)`` once
    its work loop has returned and multiprocessing's own exit steps have run. A worker's loop
    returns normally whatever its tasks did (their errors go back to the parent as results),
    so 0 is the code it would have had; the pool tells a lost worker by its sentinel anyway.
    Does nothing in a process that is not a child of another."""
    if multiprocessing.parent_process() is None:
        return
    util.Finalize(None, exit_now, args=(0,), exitpriority=_LAST)
