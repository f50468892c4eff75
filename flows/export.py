"""export_flow: the approved corpus as Parquet shards (and optionally AlignXIE records)."""

from __future__ import annotations

from prefect import flow, task

from flows.config import CorpusConfig
from parallelner.export.corpus import export_job


@task(retries=1, retry_delay_seconds=10)
def export(config: CorpusConfig, fmt: str) -> dict:
    return export_job(
        config.out_dir,
        config.corpus_dir if fmt == "parquet" else config.corpus_dir / "alignxie",
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
