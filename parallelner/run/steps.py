"""The steps of a translate run over an output folder, as plain functions that the CLI
(``run.jobs``) and the Prefect flows each compose:

- ``open_run``: the settings checked for this run, the folder made;
- ``prepare``: the folder checked for the run's partition, every input read once before any
  request (a bad record stops the run, or is quarantined), failed candidates of these samples
  removed so that they are retried, what is done already found; ``check_source_language``, the
  preflight that the first sentences read as the source language;
- ``translate``: the samples not done yet, in this process or in worker processes;
- ``summary`` / ``finish``: the run's figures, and report.json with them; ``mark_partition``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from parallelner.config import Settings
from parallelner.errors import ConfigError, InputError
from parallelner.filters.base import CheckContext
from parallelner.filters.glossary import GlossaryCheck
from parallelner.filters.source_language import SAMPLE_SIZE, check_source
from parallelner.glossary.entries import glossary_of
from parallelner.io.atomic import write_text_atomically
from parallelner.io.checksums import file_sha256
from parallelner.io.locks import hold
from parallelner.readers import Quarantine, ReadStats, read_samples
from parallelner.reasons import GLOSSARY_MISMATCH
from parallelner.records import Candidate, RecordError, Sample, check_lang
from parallelner.run.backend import resolve_structured_output
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.partitions import Partition, check_folder, mark_finished, select
from parallelner.run.pool import WorkerSpec, read_spec, run_pool, share_of
from parallelner.run.progress import Progress
from parallelner.run.report import RunFigures, write_report
from parallelner.run.translate import ShareFigures, translate_settings, translate_share

#: Below this many pending samples per worker, extra processes cost more than they give
#: (each imports the client stack: about a second); ``--workers N`` asks for N regardless.
SAMPLES_PER_WORKER = 1000


@dataclass
class Known:
    """What a caller already read of the folder for a run's samples: the candidate ids written
    (``done``) and those of them that are ``failed`` (retried by the run)."""

    done: set[str]
    failed: set[str]


@dataclass
class Run:
    """One translate run over a folder: what it was asked, and what its steps found."""

    inputs: list[Path]
    out_dir: Path
    src_lang: str
    tgt_lang: str
    settings: Settings
    limit: int | None = None
    partition: Partition | None = None
    figures: RunFigures = field(default_factory=RunFigures)
    started: float = field(default_factory=time.perf_counter)
    ids: set[str] = field(default_factory=set)  # the candidate ids of the run's samples
    first: list[Sample] = field(default_factory=list)  # for the source language check
    done: set[str] = field(default_factory=set)  # of ``ids``, those with a candidate already
    read: dict[str, object] = field(default_factory=dict)  # what the inputs held
    # what the endpoints' probe found (none when nothing was sent)
    structured: dict[str, object] = field(default_factory=dict)

    @property
    def pair(self) -> str:
        return f"{self.src_lang}-{self.tgt_lang}"

    @property
    def store(self) -> CandidateStore:
        return CandidateStore(self.out_dir)

    @property
    def pending(self) -> int:
        return len(self.ids) - len(self.ids & self.done)


def check_direction(src_lang: str, tgt_lang: str) -> None:
    """ConfigError unless both are language codes (they become folder names) and differ."""
    for flag, code in (("--src-lang", src_lang), ("--tgt-lang", tgt_lang)):
        try:
            check_lang(code, flag)
        except RecordError as e:
            raise ConfigError(str(e)) from None
    if src_lang == tgt_lang:
        raise ConfigError(f"--src-lang and --tgt-lang are both {src_lang!r}")


def open_run(
    inputs: Iterable[Path],
    out_dir: Path,
    src_lang: str,
    tgt_lang: str,
    settings: Settings,
    limit: int | None = None,
) -> Run:
    """A run of ``settings`` over ``out_dir``, checked before anything is written: a model, a
    direction, no ``--limit`` with ``--partition``; the folder made."""
    if not settings.model:
        raise ConfigError("no model: pass --model or set PARALLELNER_MODEL")
    check_direction(src_lang, tgt_lang)
    partition = Partition.parse(settings.partition, "partition")
    if partition and limit is not None:
        raise ConfigError(
            f"--limit {limit} with --partition {partition}: the partition would be marked "
            "finished with only part of its samples; drop --limit (or --partition)"
        )
    glossary_of(settings.glossary)  # a bad entry stops here, naming its line
    out_dir.mkdir(parents=True, exist_ok=True)
    structured = {
        "requested": settings.structured_output,
        "used": None,
        "note": "not probed: nothing to send",
    }
    return Run(
        [Path(p) for p in inputs],
        out_dir,
        src_lang,
        tgt_lang,
        settings,
        limit,
        partition,
        structured=structured,
    )


def lock(run: Run) -> AbstractContextManager[None]:
    """The folder's lock for this run (for its partition, when it has one)."""
    command = f"parallelner translate {run.pair}"
    if run.partition:
        command += f" --partition {run.partition}"
    return hold(run.out_dir, command, partition=run.partition.tag if run.partition else None)


@contextmanager
def checked_samples(
    inputs: list[Path],
    src_lang: str,
    out_dir: Path,
    settings: Settings,
    stats: ReadStats,
    limit: int | None = None,
) -> Iterator[Iterator[Sample]]:
    """The samples of a run's inputs as they are read for real: a bad record stops the read
    or, with ``on_bad_record = skip``, goes to ``OUT/quarantine.jsonl`` and is counted in
    ``stats``; only those of the settings' partition."""
    quarantine = Quarantine(out_dir / "quarantine.jsonl")
    try:
        samples = read_samples(
            inputs,
            src_lang,
            options=settings.read,
            limit=limit,
            on_bad_record=settings.on_bad_record,  # type: ignore[arg-type]
            quarantine=quarantine,
            stats=stats,
        )
        yield select(samples, Partition.parse(settings.partition))
    finally:
        quarantine.close()


def prepare(run: Run, known: Known | None = None) -> None:
    """Check the folder for the run's partition; read every input once before any request (a
    bad record stops here, or with ``skip`` is quarantined and counted); with a glossary,
    reject the passed candidates it contradicts; remove the failed candidates of these samples
    (and those rejected for a ``retranslate`` reason), so that this run retries them; find
    those done already.
    ``known``: what the caller already read of the folder (a flow reads it once for all its
    tasks instead of each task reading every part). On an InputError report.json says so."""
    check_folder(run.store.parts(), run.partition, run.out_dir)
    stats = ReadStats()
    try:
        with checked_samples(
            run.inputs, run.src_lang, run.out_dir, run.settings, stats, run.limit
        ) as samples:
            for s in samples:
                run.ids.add(Candidate.make_id(s.id, run.src_lang, run.tgt_lang))
                if len(run.first) < SAMPLE_SIZE:
                    run.first.append(s)
    except InputError as e:
        _count_read(run, stats)
        finish(run, ShareFigures(), f"InputError: {e}")
        raise
    _count_read(run, stats)
    if known is None:
        run.figures.glossary_rejected = reject_glossary_mismatches(run.store, run.settings, run.ids)
        run.figures.retried_failed = run.store.drop_failed(run.ids, run.settings.retranslate)
        run.done = run.store.done_ids(run.store.parts())
    else:
        if failed := run.ids & known.failed:  # else no part needs reading
            redo = run.settings.retranslate
            run.figures.retried_failed = run.store.drop_failed(failed, redo)
        run.done = known.done - failed
    run.figures.already_done = len(run.ids & run.done)


def reject_glossary_mismatches(
    store: CandidateStore, settings: Settings, ids: set[str] | None = None
) -> int:
    """Re-judge the passed candidates (of ``ids``; all when None) that the settings' glossary
    now contradicts: they are rejected with ``glossary_mismatch`` added to their reasons, so
    that ``--retranslate glossary_mismatch`` translates them again. Only the parts holding one
    are rewritten; how many were rejected. Nothing without a glossary."""
    glossary = glossary_of(settings.glossary)
    if not glossary:
        return 0
    check = GlossaryCheck(CheckContext(glossary))
    rejected = 0
    for part in store.parts():
        candidates, changed = store.read_part(part), False
        for i, c in enumerate(candidates):
            if c.status != "passed" or (ids is not None and c.id not in ids):
                continue
            if check.check(c, settings.filters).reasons:
                candidates[i] = c.with_verdict(tuple(sorted({*c.reasons, GLOSSARY_MISMATCH})), None)
                changed, rejected = True, rejected + 1
        if changed:
            store.rewrite_part(part, candidates)
    return rejected


def _count_read(run: Run, stats: ReadStats) -> None:
    run.figures.samples_read, run.figures.skipped_bad_records = stats.read, stats.skipped
    run.read = read_summary(stats)


def read_summary(stats: ReadStats) -> dict[str, object]:
    """report.json's ``read``: each input's format, tag scheme, counts and normalisations."""
    files = {
        path: {
            "format": f.format,
            "scheme": f.scheme,
            "samples": f.samples,
            "entities": f.entities,
            "bad_records": f.bad_records,
            "normalised": f.normalised,
        }
        for path, f in stats.files.items()
    }
    return {"normalised": stats.normalised(), "files": files}


def check_source_language(
    first: list[Sample], src_lang: str, where: str, flag: str = "--src-lang ", fix: str = "--force"
) -> None:
    """ConfigError, before any request, when the first samples do not read as ``src_lang``
    (the message names ``where`` they came from and the ``flag`` and ``fix`` to use)."""
    verdict = check_source(first, src_lang)
    if verdict.wrong:
        raise ConfigError(verdict.message(where, flag, fix))


def record_inputs(out_dir: Path, inputs: list[Path], src_lang: str, tgt_lang: str) -> None:
    """Add the source files of a run, with their checksums, to ``out_dir/inputs.json``
    (a missing file, quarantined with ``--on-bad-record skip``, is left out)."""
    path = out_dir / "inputs.json"
    known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    for p in inputs:
        if not Path(p).is_file():
            continue
        entry = {
            "path": str(Path(p).resolve()),
            "sha256": file_sha256(Path(p)),
            "bytes": Path(p).stat().st_size,
            "direction": f"{src_lang}-{tgt_lang}",
        }
        if entry not in known:
            known.append(entry)
    write_text_atomically(path, json.dumps(known, indent=2) + "\n")


def worker_count(requested: int, pending: int, backend: str, cores: int | None = None) -> int:
    """How many translate processes a run uses: ``requested`` (0: one per core, when every
    one gets ``SAMPLES_PER_WORKER`` samples), never more than there are samples, one for
    the in-process vLLM backend (the GPU is in this process)."""
    if backend == "vllm" or pending <= 1:
        return 1
    if requested > 0:
        return max(1, min(requested, pending))
    return max(1, min(cores or os.cpu_count() or 1, pending // SAMPLES_PER_WORKER))


def translate(run: Run, progress: Progress) -> ShareFigures:
    """Translate the run's samples not done yet, in this process or in worker processes; the
    figures of what was done (also on the error that stops it, as its ``figures``)."""
    workers = run.figures.workers = worker_count(
        run.settings.workers, run.pending, run.settings.backend
    )
    figures = ShareFigures()
    try:
        if run.pending:
            run.settings, run.structured = resolve_structured_output(run.settings)
        spec = WorkerSpec(
            inputs=run.inputs,
            src_lang=run.src_lang,
            tgt_lang=run.tgt_lang,
            settings=run.settings,
            read=run.settings.read,
            limit=run.limit,
            out_dir=run.out_dir,
            done=run.done,
        )
        if workers == 1:
            todo = share_of(read_spec(spec), run.done, run.tgt_lang, 0, 1)
            cfg = translate_settings(run.settings, run.src_lang, run.tgt_lang)
            translate_share(todo, run.out_dir, cfg, run.settings, progress, figures)
        else:
            figures = run_pool(spec, workers, progress)
    except BaseException as e:
        e.figures = getattr(e, "figures", figures)  # type: ignore[attr-defined]
        raise
    return figures


def summary(run: Run, figures: ShareFigures, stopped: str | None = None) -> dict:
    """This run's figures (``run``) with its filters', the probe's and the inputs'; ``stopped``:
    the error that ended the run early, if one did."""
    run.figures.translated = figures.translated
    run.figures.count_client(figures.stats)
    run.figures.wall_seconds = time.perf_counter() - run.started
    extra: dict[str, object] = {"filters": figures.filters, "stopped": stopped}
    extra["structured_output"] = run.structured
    if run.read:
        extra["read"] = run.read
    return {"run": asdict(run.figures), **extra}


def finish(run: Run, figures: ShareFigures, stopped: str | None = None) -> dict:
    """Write report.json with this run's ``summary`` over every candidate of the folder, and
    return it (when the run stopped on an error and the report cannot be written, the
    summary alone: the error that stopped the run goes first)."""
    extra = summary(run, figures, stopped)
    extra.pop("run")
    try:
        return write_report(run.out_dir, run.figures, extra)
    except (OSError, InputError):
        if stopped is None:
            raise
        return {"run": asdict(run.figures), **extra}


def mark_partition(run: Run) -> None:
    """Mark the run's partition finished in its direction (nothing for a run without one)."""
    if run.partition:
        figures = {
            "samples": run.figures.samples_read,
            "translated_in_last_run": run.figures.translated,
        }
        mark_finished(run.out_dir, run.partition, run.pair, figures)


def stopped_by(e: BaseException) -> str:
    """How report.json names the error that stopped a run."""
    return f"{type(e).__name__}: {e}"
