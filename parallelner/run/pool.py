"""Translate in worker processes, so that the client uses every core.

One interpreter spends a few milliseconds of CPU per request (HTTP, JSON, projection, filters);
against a pool of GPUs answering hundreds of requests a second that core is the bottleneck.
``run_pool`` starts N workers (``python -m parallelner.run.pool``); each reads the same inputs,
takes every N-th sample not done when the run started (the parts listed then, so every worker
sees the same list), and translates its share with its own event loop, client, cache connection
and part writer (``share.translate_share``). Parts are whole files with distinct names, so
exactly-once and resume hold as in one process. The parent holds the folder lock, shows the
summed progress, and collects each worker's figures. A worker dies with its parent (Linux
``PR_SET_PDEATHSIG``), so a killed run leaves no writer behind.

Protocol: the parent writes a pickled ``WorkerSpec`` to the worker's stdin; the worker writes
JSON lines to its stdout: ``{"progress": {...}}`` now and then, then ``{"done": figures}`` or
``{"error": pickled exception, "figures": ...}``.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from parallelner.config import Settings
from parallelner.formats import ReadOptions
from parallelner.readers import ReadStats, read_samples
from parallelner.records import Candidate, Sample
from parallelner.run.partitions import Partition, select
from parallelner.run.progress import Progress
from parallelner.run.translate import ShareFigures, translate_settings, translate_share

PROGRESS_EVERY = 0.2  # seconds between a worker's progress lines
STOP_GRACE = 30.0  # seconds a stopped worker gets to write its finished candidates


@dataclass
class WorkerSpec:
    """What a worker needs: the run's inputs and settings, and which share is its own."""

    inputs: list[Path]
    src_lang: str
    tgt_lang: str
    settings: Settings
    read: ReadOptions
    limit: int | None
    out_dir: Path
    done: set[str]  # the candidate ids written when the run started
    index: int = 0
    count: int = 1
    parent: int = field(default_factory=os.getpid)


def read_spec(spec: WorkerSpec) -> Iterator[Sample]:
    """The run's samples (those of its partition, when it has one); bad records were counted
    (or stopped the run) when the parent validated the inputs."""
    read = read_samples(
        spec.inputs,
        spec.src_lang,
        options=spec.read,
        limit=spec.limit,
        on_bad_record="skip",
        stats=ReadStats(),
    )
    return select(read, Partition.parse(spec.settings.partition))


def share_of(samples: Iterator[Sample], done: set[str], tgt: str, index: int, count: int):
    """Every ``count``-th sample (from ``index``) among those not in ``done``."""
    k = 0
    for sample in samples:
        if Candidate.make_id(sample.id, sample.lang, tgt) in done:
            continue
        if k % count == index:
            yield sample
        k += 1


def merge_counts(a: object, b: object) -> object:
    """Counts of two workers added up (nested dicts of numbers; other values: the first)."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = a.keys() | b.keys()
        return {
            k: merge_counts(a[k], b[k]) if k in a and k in b else a.get(k, b.get(k)) for k in keys
        }
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return a + b
    return a


class _Worker:
    def __init__(self, spec: WorkerSpec, env: dict[str, str], lines: queue.Queue) -> None:
        self.index = spec.index
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parallelner.run.pool"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,  # Ctrl-C reaches the parent only, which forwards it once
        )
        assert self.process.stdin is not None
        self.process.stdin.write(pickle.dumps(spec))
        self.process.stdin.close()
        self.progress: dict[str, object] = {"by_status": {}, "requests": 0}
        self.result: dict | None = None
        self.error: BaseException | None = None
        threading.Thread(target=self._read, args=(lines,), daemon=True).start()

    def _read(self, lines: queue.Queue) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            try:
                lines.put((self, json.loads(raw)))
            except ValueError:
                continue
        lines.put((self, None))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)


def _env() -> dict[str, str]:
    """The parent's environment, with this package importable whatever the parent's path."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    return env


def run_pool(spec: WorkerSpec, count: int, progress: Progress) -> ShareFigures:
    """Run ``count`` workers over the run ``spec`` describes; their summed figures.

    The first error of a worker (or an interrupt of this process) stops the others, which
    write what they finished; then it is raised here.
    """
    per_worker = replace(spec.settings, concurrency=max(1, -(-spec.settings.concurrency // count)))
    lines: queue.Queue = queue.Queue()
    env = _env()
    workers = [
        _Worker(replace(spec, settings=per_worker, index=i, count=count), env, lines)
        for i in range(count)
    ]
    progress.requests = lambda: sum(int(w.progress["requests"]) for w in workers)  # type: ignore[call-overload]
    open_streams, interrupted = count, False
    try:
        while open_streams:
            try:
                worker, message = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            except KeyboardInterrupt:
                interrupted = True
                for w in workers:
                    w.stop()
                continue
            if message is None:
                open_streams -= 1
            elif "progress" in message:
                worker.progress = message["progress"]
                _show(progress, workers)
            elif "done" in message:
                worker.result = message["done"]
            elif "error" in message:
                worker.result = message.get("figures")
                worker.error = pickle.loads(base64.b64decode(message["error"]))
                for w in workers:
                    if w is not worker:
                        w.stop()
    finally:
        deadline = time.monotonic() + STOP_GRACE
        for w in workers:
            try:
                w.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                w.process.kill()
                w.process.wait()
    figures = ShareFigures()
    total: dict = {}
    for w in workers:
        if w.result:
            total = merge_counts(total, w.result) if total else w.result  # type: ignore[assignment]
    if total:
        figures = ShareFigures.from_dict(total)
    spec_errors = [w.error for w in workers if w.error is not None]
    first = next((e for e in spec_errors if not isinstance(e, KeyboardInterrupt)), None)
    if first is not None:
        first.figures = figures  # type: ignore[attr-defined]
        raise first
    if interrupted or spec_errors:
        error = KeyboardInterrupt()
        error.figures = figures  # type: ignore[attr-defined]
        raise error
    lost = [w for w in workers if w.result is None]
    if lost:
        codes = ", ".join(str(w.process.returncode) for w in lost)
        error = RuntimeError(f"{len(lost)} translate workers ended without a result (exit {codes})")
        error.figures = figures  # type: ignore[attr-defined]
        raise error
    return figures


def _show(progress: Progress, workers: list[_Worker]) -> None:
    by_status = {"passed": 0, "rejected": 0, "failed": 0}
    for w in workers:
        for status, n in w.progress["by_status"].items():  # type: ignore[union-attr]
            by_status[status] = by_status.get(status, 0) + n
    progress.by_status = by_status
    progress.done = sum(by_status.values())
    if progress.on_candidate:
        progress.on_candidate(progress)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; exit if it already has."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def worker_main() -> int:
    """A worker: read the spec, translate its share, report on the original stdout."""
    spec: WorkerSpec = pickle.load(sys.stdin.buffer)
    _die_with_parent(spec.parent)
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # anything else printed goes to stderr, not into the protocol
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop like Ctrl-C: flush parts
    last = 0.0

    def send(message: dict) -> None:
        channel.write(json.dumps(message) + "\n")

    def report(p: Progress, force: bool = False) -> None:
        nonlocal last
        now = time.monotonic()
        if force or now - last >= PROGRESS_EVERY:
            last = now
            requests = p.requests() if p.requests else 0
            send({"progress": {"by_status": p.by_status, "requests": requests}})

    progress = Progress(on_candidate=report)
    figures = ShareFigures()
    try:
        samples = read_spec(spec)
        mine = share_of(samples, spec.done, spec.tgt_lang, spec.index, spec.count)
        cfg = translate_settings(spec.settings, spec.src_lang, spec.tgt_lang)
        translate_share(mine, spec.out_dir, cfg, spec.settings, progress, figures)
    except BaseException as e:  # the parent re-raises it
        report(progress, force=True)
        try:
            pickled = pickle.dumps(e)
            pickle.loads(pickled)
        except Exception:
            pickled = pickle.dumps(RuntimeError(f"{type(e).__name__}: {e}"))
        error = base64.b64encode(pickled).decode()
        send({"error": error, "figures": figures.as_dict()})
        return 1
    report(progress, force=True)
    send({"done": figures.as_dict()})
    return 0


if __name__ == "__main__":
    from parallelner.run.fast_exit import exit_now

    # The parent reads this worker's messages until the pipe closes, i.e. until the process
    # is gone: without the teardown of openai's and the translate stack's modules.
    exit_now(worker_main())
