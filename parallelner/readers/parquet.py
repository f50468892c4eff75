"""Parquet corpora, read in record batches so memory stays flat.

Two layouts: Hugging Face token classification (``tokens`` + ``ner_tags``, tags as strings or
as class ids whose names come from the file's ``huggingface`` metadata or ``--label-names``),
and parallelner's own (``text`` + ``entities`` as a list of {start, end, label}). Other column
names: ``--columns tags=labels,tokens=words`` or ``--columns text=sentence,entities=ents``. An
``id`` column is used when present; otherwise the row number. "line" in errors is the 1-based
row number; a bad value is a bad record of its row, never wrapped around or stringified.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from parallelner.errors import InputError
from parallelner.formats import ReadOptions
from parallelner.readers.base import FileReport, Located, UnreadableFile
from parallelner.records import RecordError, Sample, Span
from parallelner.text.detokenize import join_tokens
from parallelner.text.tagging import TagError, scheme_of, tags_to_ranges


def hf_label_names(schema_metadata: dict[bytes, bytes] | None, column: str = "ner_tags"):
    """Class names of ``column`` from Hugging Face ``datasets`` schema metadata, if any;
    ValueError when the metadata is not the JSON ``datasets`` writes."""
    if not schema_metadata or b"huggingface" not in schema_metadata:
        return None
    try:
        info = json.loads(schema_metadata[b"huggingface"])
        feature = info.get("info", {}).get("features", {}).get(column, {})
        inner = feature.get("feature", feature)
        names = inner.get("names")
    except (ValueError, AttributeError) as e:
        raise ValueError(f"its huggingface metadata is not what datasets writes ({e})") from None
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) for n in names)
    ):
        raise ValueError("its huggingface metadata names classes that are not strings")
    return list(names) if names else None


class _Rows:
    """How one file's rows become Samples: its column names and label names."""

    def __init__(self, pf: pq.ParquetFile, path: Path, options: ReadOptions) -> None:
        self.path, self.strict = path, not options.lenient_tags
        names = set(pf.schema_arrow.names)
        self.id = options.column("id", "id")
        self.tokens, self.tags = (
            options.column("tokens", "tokens"),
            options.column("tags", "ner_tags"),
        )
        self.text = options.column("text", "text")
        self.entities = options.column("entities", "entities")
        self.token_layout = {self.tokens, self.tags} <= names
        if not self.token_layout and not {self.text, self.entities} <= names:
            raise UnreadableFile(
                path,
                None,
                f"needs columns {self.tokens} + {self.tags}, or {self.text} + {self.entities}; "
                f"the file has {', '.join(sorted(names))}: map yours with e.g. "
                "--columns tokens=words,tags=labels or --columns text=sentence,entities=ents",
            )
        self.has_id = self.id in names
        self.names = list(options.label_names) or None
        if self.token_layout:
            self.names = self.names or self._metadata_names(pf)
            self._check_class_ids(pf.schema_arrow.field(self.tags).type)
        self.prefixes: set[str] = set()

    def _metadata_names(self, pf: pq.ParquetFile) -> list[str] | None:
        try:
            return hf_label_names(pf.schema_arrow.metadata, self.tags)
        except ValueError as e:
            if _holds_ids(pf.schema_arrow.field(self.tags).type):
                raise UnreadableFile(
                    self.path, None, f"{self.tags} holds class ids and {e}: pass --label-names"
                ) from None
            return None

    def _check_class_ids(self, kind: pa.DataType) -> None:
        if _holds_ids(kind) and self.names is None:
            raise UnreadableFile(
                self.path,
                None,
                f"{self.tags} holds class ids and the file names no classes: pass "
                "--label-names O,B-PER,I-PER,... (in class-id order)",
            )

    def sample(self, row: dict, number: int, lang: str, report: FileReport) -> Sample:
        if self.has_id and row[self.id] is None:
            raise ValueError(f"{self.id} is null")
        sample_id = str(row[self.id]) if self.has_id else str(number)
        if self.token_layout:
            text, spans = self._from_tokens(row, report)
        else:
            text, spans = self._from_spans(row)
        return Sample(sample_id, lang, text, spans)

    def _tag(self, value: object, k: int) -> str:
        where = f"{self.tags}[{k}]"
        if isinstance(value, str):
            return value
        if value is None:
            raise ValueError(f"{where} is null")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where} is {value!r}, not a tag or a class id (an integer)")
        assert self.names is not None  # checked for the column's type
        if not 0 <= value < len(self.names):
            raise ValueError(
                f"{where} is class {value}, but there are {len(self.names)} label names "
                f"(ids 0-{len(self.names) - 1}; --label-names)"
            )
        return self.names[value]

    def _from_tokens(self, row: dict, report: FileReport) -> tuple[str, tuple[Span, ...]]:
        raw_tokens, raw_tags = row[self.tokens], row[self.tags]
        for name, value in ((self.tokens, raw_tokens), (self.tags, raw_tags)):
            if not isinstance(value, list):
                raise ValueError(f"{name} is {'null' if value is None else type(value).__name__}")
        tokens = []
        for k, t in enumerate(raw_tokens):
            if not isinstance(t, str):
                raise ValueError(f"{self.tokens}[{k}] is {'null' if t is None else repr(t)}")
            tokens.append(t)
        tags = [self._tag(t, k) for k, t in enumerate(raw_tags)]
        if len(tags) != len(tokens):
            raise ValueError(f"{len(tokens)} {self.tokens} but {len(tags)} {self.tags}")
        try:
            ranges = tags_to_ranges(tags, strict=self.strict)
        except TagError as e:
            raise ValueError(f"{self.tags}[{e.index}]: {e}") from None
        report.add_tokens(len(tokens))
        self.prefixes.update(t[0] for t in tags)
        text, offsets = join_tokens(tokens)
        spans = tuple(
            Span(offsets[a][0], offsets[b - 1][1], lab, text[offsets[a][0] : offsets[b - 1][1]])
            for a, b, lab in ranges
        )
        return text, spans

    def _from_spans(self, row: dict) -> tuple[str, tuple[Span, ...]]:
        text, entities = row[self.text], row[self.entities]
        if not isinstance(text, str):
            raise ValueError(f"{self.text} is {'null' if text is None else type(text).__name__}")
        if not isinstance(entities, list):
            kind = "null" if entities is None else type(entities).__name__
            raise ValueError(f"{self.entities} is {kind}, not a list")
        spans = []
        for k, e in enumerate(entities):
            if not isinstance(e, dict) or any(e.get(f) is None for f in ("start", "end", "label")):
                raise ValueError(f"{self.entities}[{k}] needs start, end and label")
            spans.append(
                Span(e["start"], e["end"], e["label"], e.get("text") or text[e["start"] : e["end"]])
            )
        return text, tuple(spans)


def _holds_ids(kind: pa.DataType) -> bool:
    value = kind.value_type if pa.types.is_list(kind) or pa.types.is_large_list(kind) else kind
    return pa.types.is_integer(value) or pa.types.is_floating(value)


def read_parquet(
    path: Path,
    lang: str,
    options: ReadOptions,
    report: FileReport,
    *,
    batch_rows: int = 8192,
) -> Iterator[Located | InputError]:
    """Samples of a Parquet file, one per row."""
    try:
        pf = pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises several types for a file that is not Parquet
        raise UnreadableFile(path, None, f"not a readable Parquet file: {e}") from None
    rows = _Rows(pf, path, options)
    report.format = "parquet"
    report.scheme = "character spans" if not rows.token_layout else ""
    report.columns = (
        {"tokens": rows.tokens, "tags": rows.tags}
        if rows.token_layout
        else {"text": rows.text, "entities": rows.entities}
    )
    number = 0
    for batch in pf.iter_batches(batch_size=batch_rows, use_threads=False):
        for row in batch.to_pylist():
            number += 1
            try:
                yield number, rows.sample(row, number, lang, report)
            except (ValueError, KeyError, TypeError, RecordError) as e:
                yield InputError(path, number, str(e))
        if rows.token_layout:
            report.scheme = scheme_of(rows.prefixes)
