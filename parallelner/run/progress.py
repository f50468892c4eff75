"""The progress bar of a translate run: samples done, passed/rejected/failed, requests/s."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from parallelner.records import Candidate

if TYPE_CHECKING:  # rich is imported by the bar alone, not by the worker processes
    from rich.console import Console


@dataclass
class Progress:
    """Running counts a progress bar shows; ``on_candidate`` is called after each one."""

    done: int = 0
    by_status: dict[str, int] = field(
        default_factory=lambda: {"passed": 0, "rejected": 0, "failed": 0}
    )
    on_candidate: Callable[[Progress], None] | None = None
    requests: Callable[[], int] | None = None  # requests sent so far, set by the job

    def add(self, candidate: Candidate) -> None:
        self.done += 1
        self.by_status[candidate.status] += 1
        if self.on_candidate:
            self.on_candidate(self)


@contextmanager
def live_progress(console: Console, enabled: bool = True) -> Iterator[Progress]:
    """A Progress whose counts a live bar shows (and nothing when disabled or not a terminal)."""
    progress = Progress()
    if not enabled:
        yield progress
        return
    from rich.progress import Progress as RichProgress
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = RichProgress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = bar.add_task("starting")
    started = time.perf_counter()

    def update(p: Progress) -> None:
        s = p.by_status
        rate = p.requests() / max(1e-9, time.perf_counter() - started) if p.requests else 0.0
        bar.update(
            task,
            description=f"{p.done} samples  passed {s['passed']}  rejected {s['rejected']}  "
            f"failed {s['failed']}  {rate:.1f} req/s",
        )

    progress.on_candidate = update
    with bar:
        yield progress
