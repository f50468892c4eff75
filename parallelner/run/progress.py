"""The progress bar of a translate run: samples done, passed/rejected/failed, requests/s."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

from parallelner.run.translate import Progress


@contextmanager
def live_progress(console: Console, enabled: bool = True) -> Iterator[Progress]:
    """A Progress whose counts a live bar shows (and nothing when disabled or not a terminal)."""
    progress = Progress()
    if not enabled:
        yield progress
        return
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
