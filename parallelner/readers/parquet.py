"""Parquet corpora, read in record batches so memory stays flat.

Two layouts: Hugging Face token classification (``tokens`` + ``ner_tags``, tags as strings or
as class ids whose names come from ``label_names`` or the file's ``huggingface`` metadata), and
parallelner's own (``text`` + ``entities`` as a list of {start, end, label}). An ``id`` column
is used when present; otherwise the row number. "line" in errors is the 1-based row number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow.parquet as pq

from parallelner.detokenize import join_tokens
from parallelner.errors import InputError
from parallelner.readers.base import Located
from parallelner.records import RecordError, Sample, Span
from parallelner.tagging import TagError, tags_to_ranges


def hf_label_names(schema_metadata: dict[bytes, bytes] | None) -> list[str] | None:
    """Class names of ``ner_tags`` from Hugging Face ``datasets`` schema metadata, if any."""
    if not schema_metadata or b"huggingface" not in schema_metadata:
        return None
    info = json.loads(schema_metadata[b"huggingface"])
    feature = info.get("info", {}).get("features", {}).get("ner_tags", {})
    inner = feature.get("feature", feature)
    names = inner.get("names")
    return list(names) if names else None


def _tags(raw: Sequence[object], names: list[str] | None) -> list[str]:
    if all(isinstance(t, str) for t in raw):
        return list(raw)  # type: ignore[arg-type]
    if names is None:
        raise ValueError("ner_tags are class ids but no label names: pass label_names")
    return [names[int(t)] for t in raw]  # type: ignore[call-overload]


def _from_tokens(row: dict, lang: str, names: list[str] | None, strict: bool) -> tuple[str, tuple]:
    tokens = [str(t) for t in row["tokens"]]
    tags = _tags(row["ner_tags"], names)
    if len(tags) != len(tokens):
        raise ValueError(f"{len(tokens)} tokens but {len(tags)} ner_tags")
    try:
        ranges = tags_to_ranges(tags, strict=strict)
    except TagError as e:
        raise ValueError(f"ner_tags[{e.index}]: {e}") from None
    text, offsets = join_tokens(tokens)
    spans = tuple(
        Span(offsets[a][0], offsets[b - 1][1], lab, text[offsets[a][0] : offsets[b - 1][1]])
        for a, b, lab in ranges
    )
    return text, spans


def _from_spans(row: dict) -> tuple[str, tuple]:
    text = row["text"]
    spans = tuple(
        Span(e["start"], e["end"], e["label"], e.get("text") or text[e["start"] : e["end"]])
        for e in row["entities"]
    )
    return text, spans


def read_parquet(
    path: Path,
    lang: str,
    *,
    label_names: list[str] | None = None,
    strict: bool = True,
    batch_rows: int = 8192,
) -> Iterator[Located | InputError]:
    """Samples of a Parquet file, one per row."""
    try:
        pf = pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises several types for a file that is not Parquet
        yield InputError(path, None, f"not a readable Parquet file: {e}")
        return
    columns = set(pf.schema_arrow.names)
    tokens_layout = {"tokens", "ner_tags"} <= columns
    if not tokens_layout and not {"text", "entities"} <= columns:
        yield InputError(path, None, "needs columns tokens + ner_tags, or text + entities")
        return
    names = label_names or hf_label_names(pf.schema_arrow.metadata)
    number = 0
    for batch in pf.iter_batches(batch_size=batch_rows):
        for row in batch.to_pylist():
            number += 1
            try:
                text, spans = (
                    _from_tokens(row, lang, names, strict) if tokens_layout else _from_spans(row)
                )
                yield number, Sample(str(row.get("id", number)), lang, text, spans)
            except (ValueError, KeyError, TypeError, IndexError, RecordError) as e:
                yield InputError(path, number, str(e))
