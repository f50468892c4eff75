"""export_flow: the approved corpus as Parquet shards (and optionally AlignXIE records)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task

from flows.config import CorpusConfig
from parallelner.export.corpus import export_job


def _alignxie_target(target: Path | str) -> Path | str:
    return f"{target.rstrip('/')}/alignxie" if isinstance(target, str) else target / "alignxie"


@task(retries=1, retry_delay_seconds=10)
def export(config: CorpusConfig, fmt: str) -> dict:
    return export_job(
        config.out_dir,
        _alignxie_target(config.corpus_target) if fmt == "alignxie" else config.corpus_target,
        include=config.export.include,
        shard_rows=config.export.shard_rows,
        fmt=fmt,
    )  # type: ignore[arg-type]


@flow(name="export")
def export_flow(config: CorpusConfig, alignxie: bool = False) -> dict:
    """Export the corpus; with ``alignxie`` also the instruction-tuning records."""
    manifest = export(config, "parquet")
    if alignxie:
        export(config, "alignxie")
    return manifest
