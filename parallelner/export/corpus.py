"""``parallelner export``: the approved pairs as Parquet shards per language pair, a manifest and
a dataset card (or, with ``--format alignxie``, instruction-tuning records).

Streaming: rows go from the candidate parts to the open shard of their language pair, one row
group at a time, so memory does not grow with the corpus.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Literal

import pyarrow as pa

from parallelner import __version__
from parallelner.atomic import write_text_atomically
from parallelner.candidate_store import CandidateStore
from parallelner.errors import InputError
from parallelner.export.alignxie import alignxie_record, load_classes
from parallelner.export.card import dataset_card
from parallelner.export.parquet import ShardWriter
from parallelner.export.selection import ExportError, Include, select_rows
from parallelner.export.tokens import tag_names, tokens_and_tags
from parallelner.gc_pacing import paced_gc
from parallelner.locks import hold
from parallelner.partitions import Gathered, gather_state
from parallelner.records import EXPORT_SCHEMA, RecordError, check_lang
from parallelner.report import corpus_counts
from parallelner.storage import ObjectStore, is_uri, public_uri

ExportFormat = Literal["parquet", "alignxie"]

ALIGNXIE_SCHEMA = pa.schema(
    [
        pa.field(n, pa.string(), nullable=False)
        for n in ("id", "src_lang", "tgt_lang", "prompt", "completion")
    ]
)


def with_tokens(row: dict, tag_ids: dict[str, int]) -> dict:
    """The export row: schema columns only, tokens, BIO tags and their class ids (``tag_ids``:
    name -> id, from ``tag_names``) added on both sides."""
    out = {f.name: row.get(f.name) for f in EXPORT_SCHEMA}
    for side in ("src", "tgt"):
        spans = [(s["start"], s["end"], s["label"]) for s in row[f"{side}_entities"]]
        tokens, tags = tokens_and_tags(row[f"{side}_text"], spans)
        out[f"{side}_tokens"], out[f"{side}_tags"] = tokens, tags
        try:
            out[f"{side}_tag_ids"] = [tag_ids[t] for t in tags]
        except KeyError as e:
            raise ExportError(
                f"candidate {row['id']}: {side} tag {e.args[0]} is not a tag of the source "
                f"labels {sorted(tag_ids)}"
            ) from None
    return out


def _read_json(path: Path) -> dict | list | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def export_job(
    out_dir: Path,
    corpus: Path | str,
    *,
    include: Include = "auto",
    shard_rows: int = 50_000,
    fmt: ExportFormat = "parquet",
    class_map: Path | None = None,
    allow_missing: bool = False,
) -> dict:
    """Export ``out_dir``'s approved pairs into ``corpus``; return the manifest.

    Both folders are locked for the export (a partition run still going refuses it); a
    candidate id found twice in the parts stops it (two runs overlapped). A folder written by
    partition runs is gathered: a partition without its finished marker stops the export,
    unless ``allow_missing`` (the manifest then lists what is missing).
    """
    if is_uri(corpus):  # staged here, then published object by object, the manifest last
        store = ObjectStore.open(str(corpus))
        staging = out_dir / ".staging" / fmt
        with hold(out_dir, "parallelner export"):
            shutil.rmtree(staging, ignore_errors=True)
            manifest = export_job(
                out_dir, staging, include=include, shard_rows=shard_rows, fmt=fmt,
                class_map=class_map, allow_missing=allow_missing,
            )  # fmt: skip
            store.publish(staging)
            shutil.rmtree(staging)
        return {**manifest, "published_to": public_uri(str(corpus))}
    corpus = Path(corpus)
    corpus.mkdir(parents=True, exist_ok=True)
    with hold(out_dir, "parallelner export"), hold(corpus, "parallelner export"):
        CandidateStore(out_dir).check_unique()
        gathered = gather_state(out_dir, allow_missing)
        with paced_gc():  # a row's dicts and lists are garbage a moment later
            return _export(out_dir, corpus, include, shard_rows, fmt, class_map, gathered)


def _pair_folder(corpus: Path, row: dict) -> str:
    """``<src>-<tgt>``, once both are checked to be language codes (a folder name)."""
    try:
        check_lang(row["src_lang"], f"candidate {row['id']}: src_lang")
        check_lang(row["tgt_lang"], f"candidate {row['id']}: tgt_lang")
    except RecordError as e:
        raise InputError(corpus, None, str(e)) from None
    return f"{row['src_lang']}-{row['tgt_lang']}"


def _export(
    out_dir: Path,
    corpus: Path,
    include: Include,
    shard_rows: int,
    fmt: ExportFormat,
    class_map: Path | None,
    gathered: Gathered,
) -> dict:
    labels = CandidateStore(out_dir).labels()
    tags = tag_names(labels)
    tag_ids = {name: i for i, name in enumerate(tags)}
    table = load_classes(class_map)
    writers: dict[str, ShardWriter] = {}
    counts: Counter[str] = Counter()
    models: Counter[str] = Counter()
    prompts: Counter[str] = Counter()
    per_pair: Counter[str] = Counter()
    schema, suffix = (ALIGNXIE_SCHEMA, "-alignxie") if fmt == "alignxie" else (EXPORT_SCHEMA, "")
    jsonl: dict[str, object] = {}
    try:
        for row in select_rows(out_dir, include, counts):
            pair = f"{row['src_lang']}-{row['tgt_lang']}"
            if pair not in writers:
                _pair_folder(corpus, row)
                writers[pair] = ShardWriter(corpus / pair, schema, shard_rows, suffix)
                if fmt == "alignxie":
                    jsonl[pair] = (corpus / pair / "alignxie.jsonl.tmp").open("w", encoding="utf-8")
            per_pair[pair] += 1
            models[row["model"]] += 1
            prompts[row["prompt_version"]] += 1
            if fmt == "alignxie":
                record = alignxie_record(row, labels, table)
                jsonl[pair].write(json.dumps(record, ensure_ascii=False) + "\n")  # type: ignore[attr-defined]
                writers[pair].add(record)
            else:
                writers[pair].add(with_tokens(row, tag_ids))
    except BaseException:
        for writer in writers.values():
            writer.abort()
        for fh in jsonl.values():
            fh.close()  # type: ignore[attr-defined]
            Path(fh.name).unlink(missing_ok=True)  # type: ignore[attr-defined]
        raise
    shards = {pair: writer.close() for pair, writer in sorted(writers.items())}
    for pair, fh in jsonl.items():
        fh.close()  # type: ignore[attr-defined]
        Path(fh.name).replace(corpus / pair / "alignxie.jsonl")  # type: ignore[attr-defined]
    manifest = {
        "schema_version": EXPORT_SCHEMA.metadata[b"parallelner_schema_version"].decode(),
        "parallelner_version": __version__,
        "format": fmt,
        "include": include,
        "counts": dict(sorted(per_pair.items())),
        "selection": dict(sorted(counts.items())),
        "labels": labels,
        "tag_names": tags,
        "models": dict(models),
        "prompt_versions": dict(prompts),
        "source_files": _read_json(out_dir / "inputs.json") or [],
        "shards": [
            {"path": str(s.path.relative_to(corpus)), "rows": s.rows, "sha256": s.sha256}
            for pair_shards in shards.values()
            for s in pair_shards
        ],
        # counted now: report.json may be older than the last run (partitions end apart)
        "filter_report": _pick(
            corpus_counts(CandidateStore(out_dir)), "by_status", "by_reason", "by_pair"
        ),
        "review_report": _pick(
            _read_json(out_dir / "review" / "report.json"), "reviewed", "by_status", "audit"
        ),
    }
    if gathered.count:
        manifest["partitions"] = gathered.as_dict()
    if fmt == "alignxie":
        manifest["class_map"] = {label: table.get(label, {}) for label in labels}
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    write_text_atomically(corpus / "manifest.json", text)
    write_text_atomically(corpus / "README.md", dataset_card(manifest))
    return manifest


def _pick(report: object, *keys: str) -> dict | None:
    if not isinstance(report, dict):
        return None
    return {k: report[k] for k in keys if k in report}
