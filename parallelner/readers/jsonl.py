"""JSONL spans, one sample a line.

Native: ``{"id", "lang"?, "text", "entities": [{"start", "end", "label", "text"?}]}``.
Pairs (the UNER PUD ``pairs.jsonl``): ``{"id", "<lang>": {"text", "entities"}, ...}`` — the
side named by ``lang`` is read. Other field names: ``--columns text=sentence,entities=ents``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from parallelner.errors import InputError
from parallelner.formats import ReadOptions
from parallelner.readers.base import FileReport, Located, UnreadableFile, decode_lines
from parallelner.records import RecordError, Sample, Span
from parallelner.text.tagging import TAG_RE


def _field(obj: dict, name: str, kind: type | tuple[type, ...], where: str = "") -> object:
    if name not in obj:
        raise ValueError(f"missing field {where}{name!r} (another name: --columns)")
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"field {where}{name!r} is {type(value).__name__}, not the expected type")
    return value


def _span(text: str, entity: object, k: int, entities: str) -> Span:
    where = f"{entities}[{k}]."
    if not isinstance(entity, dict):
        raise ValueError(f"{entities}[{k}] is not an object")
    start = _field(entity, "start", int, where)
    end = _field(entity, "end", int, where)
    label = _field(entity, "label", str, where)
    surface = entity.get("text", text[start:end])  # type: ignore[index]
    return Span(start, end, label, surface)  # type: ignore[arg-type]


class _Fields:
    def __init__(self, options: ReadOptions) -> None:
        self.id = options.column("id", "id")
        self.text = options.column("text", "text")
        self.entities = options.column("entities", "entities")

    def sample(self, obj: object, lang: str) -> Sample:
        if not isinstance(obj, dict):
            raise ValueError("the line is not a JSON object")
        sample_id = _field(obj, self.id, (str, int))
        side = obj if self.text in obj or lang not in obj else obj[lang]
        if not isinstance(side, dict):
            raise ValueError(f"field {lang!r} is not an object")
        if "lang" in side and side["lang"] != lang:
            raise ValueError(f"lang is {side['lang']!r} but the source language is {lang!r}")
        text = _field(side, self.text, str)
        entities = _field(side, self.entities, list)
        spans = tuple(
            _span(text, e, k, self.entities)  # type: ignore[arg-type]
            for k, e in enumerate(entities)  # type: ignore[arg-type]
        )
        return Sample(str(sample_id), lang, text, spans)  # type: ignore[arg-type]


def _looks_like_conll(line: str) -> bool:
    cols = line.split("\t") if "\t" in line else line.split()
    return len(cols) >= 2 and TAG_RE.match(cols[-1]) is not None


def read_jsonl(
    path: Path, lang: str, options: ReadOptions, report: FileReport
) -> Iterator[Located | InputError]:
    """Samples of a JSONL file; a bad line gives an InputError naming it."""
    fields = _Fields(options)
    report.format = "jsonl"
    report.scheme = "character spans"
    if options.columns:
        report.columns = dict(options.columns)
    first = True
    for number, line in decode_lines(path):
        if isinstance(line, InputError):
            yield line
            continue
        if not line.strip():
            continue
        try:
            yield number, fields.sample(json.loads(line), lang)
        except json.JSONDecodeError as e:
            if first and _looks_like_conll(line):
                raise UnreadableFile(
                    path, number, "this looks like CoNLL, not JSONL: --format conll"
                ) from None
            yield InputError(path, number, f"invalid JSON: {e.msg} at column {e.colno}")
        except RecursionError:
            yield InputError(path, number, "JSON nested too deep")
        except (ValueError, RecordError) as e:
            yield InputError(path, number, str(e))
        first = False
