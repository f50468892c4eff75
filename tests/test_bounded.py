"""Bounded concurrency (``parallelner.bounded``): the limit holds, results come as they finish,
an early stop leaves nothing running."""

from __future__ import annotations

import asyncio

import pytest

from parallelner.bounded import gather_bounded, in_completion_order


class Probe:
    """Jobs that sleep ``item`` twentieths of a second and count how many run at once."""

    def __init__(self) -> None:
        self.now = self.most = self.started = 0
        self.cancelled = 0

    async def work(self, item: int) -> int:
        self.started += 1
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(item / 20)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.now -= 1
        return item


def test_at_most_limit_run_at_once_and_results_come_as_they_finish():
    probe = Probe()

    async def main() -> list[int]:
        return [r async for r in in_completion_order([5, 1, 3, 1, 1, 2], probe.work, 3)]

    got = asyncio.run(main())
    assert probe.most == 3
    # 5, 1, 3 start; 1 ends (t=1) and frees a slot for the second 1 (ends t=2), then the third
    # 1 (t=3) and the 3 (t=3), then 2 (t=5) and 5 (t=5)
    assert got[:2] == [1, 1] and sorted(got) == [1, 1, 1, 2, 3, 5]


def test_items_are_pulled_only_as_slots_free_up():
    pulled = []

    def items():
        for i in range(100):
            pulled.append(i)
            yield 1

    async def main() -> None:
        stream = in_completion_order(items(), Probe().work, 4)
        await anext(stream)
        assert len(pulled) <= 5  # four in flight, one pulled to refill the first slot
        await stream.aclose()

    asyncio.run(main())


def test_an_error_ends_the_stream_and_cancels_the_jobs_in_flight():
    probe = Probe()

    async def work(item: int) -> int:
        if item == 0:
            raise ValueError("bad item")
        return await probe.work(item)

    async def main() -> None:
        with pytest.raises(ValueError, match="bad item"):
            async for _ in in_completion_order([10, 10, 0, 10], work, 3):
                pass

    asyncio.run(main())
    assert probe.started == 2 and probe.cancelled == 2 and probe.now == 0


def test_gather_bounded_keeps_the_items_order():
    probe = Probe()
    got = asyncio.run(gather_bounded([4, 1, 3, 2, 1], probe.work, 2))
    assert got == [4, 1, 3, 2, 1] and probe.most == 2


def test_a_none_item_is_an_item_not_the_end():
    async def echo(item: object) -> object:
        return item

    assert asyncio.run(gather_bounded([1, None, 2], echo, 2)) == [1, None, 2]
