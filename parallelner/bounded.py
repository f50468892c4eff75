"""Bounded concurrency: at most ``limit`` jobs of a stream in flight, results as they finish.

What keeps an endpoint saturated without an unbounded fan-out: items are pulled from the
iterable only as slots free up (memory stays flat however long the input is), a finished job
frees its slot at once, and a wake-up costs O(1) (a done callback queues the task), where
``asyncio.wait(pending)`` hooks and unhooks every task in flight on every call (256 of them,
for every reply, at 256 in flight).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
_END = object()  # the items are used up (an item may itself be None)


async def in_completion_order(
    items: Iterable[T], work: Callable[[T], Awaitable[R]], limit: int
) -> AsyncIterator[R]:
    """``work(item)`` for every item, ``limit`` at a time, yielded in the order they finish.

    A job that raises ends the stream with its error. Stopped early (an error, an interrupt,
    the consumer leaving), the jobs in flight are cancelled and awaited, so none dies with
    "exception was never retrieved".
    """
    pending: set[asyncio.Task[R]] = set()
    finished: deque[asyncio.Task[R]] = deque()
    woken = asyncio.Event()

    def on_done(task: asyncio.Task[R]) -> None:
        finished.append(task)
        woken.set()

    queue, limit = iter(items), max(1, limit)
    try:
        while True:
            while len(pending) < limit and (item := next(queue, _END)) is not _END:
                task = asyncio.ensure_future(work(item))
                task.add_done_callback(on_done)
                pending.add(task)
            if not pending:
                return
            while not finished:
                woken.clear()
                await woken.wait()
            # yield what has finished (more may finish while the consumer works), then refill
            while finished:
                task = finished.popleft()
                pending.discard(task)
                yield task.result()
    finally:
        left = list(pending)  # the finished ones not yet yielded are still in it
        for task in left:
            task.cancel()
        if left:
            await asyncio.gather(*left, return_exceptions=True)


async def gather_bounded(
    items: Iterable[T], work: Callable[[T], Awaitable[R]], limit: int
) -> list[R]:
    """``work(item)`` for every item, ``limit`` at a time; the results in the items' order."""

    async def numbered(pair: tuple[int, T]) -> tuple[int, R]:
        return pair[0], await work(pair[1])

    results = [pair async for pair in in_completion_order(enumerate(items), numbered, limit)]
    return [result for _, result in sorted(results, key=lambda pair: pair[0])]
