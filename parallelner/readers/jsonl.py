"""JSONL spans, one sample a line.

Native: ``{"id", "lang"?, "text", "entities": [{"start", "end", "label", "text"?}]}``.
Pairs (the UNER PUD ``pairs.jsonl``): ``{"id", "<lang>": {"text", "entities"}, ...}`` — the
side named by ``lang`` is read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from parallelner.errors import InputError
from parallelner.readers.base import Located, decode_lines
from parallelner.records import RecordError, Sample, Span


def _field(obj: dict, name: str, kind: type | tuple[type, ...], where: str = "") -> object:
    if name not in obj:
        raise ValueError(f"missing field {where}{name!r}")
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"field {where}{name!r} is {type(value).__name__}, not the expected type")
    return value


def _span(text: str, entity: object, k: int) -> Span:
    where = f"entities[{k}]."
    if not isinstance(entity, dict):
        raise ValueError(f"entities[{k}] is not an object")
    start = _field(entity, "start", int, where)
    end = _field(entity, "end", int, where)
    label = _field(entity, "label", str, where)
    surface = entity.get("text", text[start:end])  # type: ignore[index]
    return Span(start, end, label, surface)  # type: ignore[arg-type]


def _sample(obj: object, lang: str) -> Sample:
    if not isinstance(obj, dict):
        raise ValueError("the line is not a JSON object")
    sample_id = _field(obj, "id", (str, int))
    side = obj if "text" in obj or lang not in obj else obj[lang]
    if not isinstance(side, dict):
        raise ValueError(f"field {lang!r} is not an object")
    if "lang" in side and side["lang"] != lang:
        raise ValueError(f"lang is {side['lang']!r} but the source language is {lang!r}")
    text = _field(side, "text", str)
    entities = _field(side, "entities", list)
    spans = tuple(_span(text, e, k) for k, e in enumerate(entities))  # type: ignore[arg-type]
    return Sample(str(sample_id), lang, text, spans)  # type: ignore[arg-type]


def read_jsonl(path: Path, lang: str) -> Iterator[Located | InputError]:
    """Samples of a JSONL file; a bad line gives an InputError naming it."""
    for number, line in decode_lines(path):
        if isinstance(line, InputError):
            yield line
            continue
        if not line.strip():
            continue
        try:
            yield number, _sample(json.loads(line), lang)
        except json.JSONDecodeError as e:
            yield InputError(path, number, f"invalid JSON: {e.msg} at column {e.colno}")
        except RecursionError:
            yield InputError(path, number, "JSON nested too deep")
        except (ValueError, RecordError) as e:
            yield InputError(path, number, str(e))
