"""Garbage collection paced for a long run that allocates fast: ``with paced_gc(): ...``
(a translate run; an export and the HTML report, which read every candidate row).

A translate run makes millions of short-lived objects (requests, replies, candidates). With
CPython's defaults, a collection of the young generation runs every 700 allocations and a full
collection walks every object in the process, the interpreter's modules (openai's thousands
of types, Prefect's in a flow's task) included: 16 % of a 50 ms run's CPU went to collection.
Inside the block, what was alive when it began is frozen (full collections do not walk it)
and the young generation is collected every 20,000 allocations; both are undone when the
last block of the process ends. Nested and concurrent blocks (threads) are fine.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 20_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, ...] = ()


@contextmanager
def paced_gc() -> Iterator[None]:
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(max(YOUNG_THRESHOLD, _saved[0]), *_saved[1:])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_saved)
                gc.unfreeze()
