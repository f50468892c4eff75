"""How input files are read: the formats the readers know, and ``ReadOptions``.

Light on purpose (the CLI's parser needs it). One object, ``ReadOptions``, that the CLI
flags, the TOML ``[read]`` table, the flows' directions and ``parallelner inspect`` all fill
in, so a file reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from parallelner.errors import ConfigError

Format = Literal["auto", "conll", "chars", "jsonl", "parquet"]
FORMATS: tuple[str, ...] = ("auto", "conll", "chars", "jsonl", "parquet")

#: What ``--columns`` can map, and the other names it takes for them.
COLUMN_KEYS = ("id", "text", "entities", "tokens", "tags")
_ALIASES = {"token": "tokens", "tag": "tags", "ner_tags": "tags", "labels": "tags"}
#: Keys that CoNLL files map by position (counted from 0).
POSITION_KEYS = ("tokens", "tags")


@dataclass(frozen=True)
class ReadOptions:
    """Reader settings; defaults read every shape the readers detect on their own."""

    format: Format = "auto"
    lenient_tags: bool = False  # an I- that starts an entity is read as B- (IOB1)
    label_names: tuple[str, ...] = ()  # names of Parquet class ids, in order
    # {"tokens": "1", "tags": "2"} (CoNLL positions, from 0) or {"tags": "labels"} (names)
    columns: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ConfigError(f"format {self.format!r}: expected one of {', '.join(FORMATS)}")

    def column(self, key: str, default: str) -> str:
        """The column (name, or position as text) ``key`` is read from."""
        return self.columns.get(key, default)


def parse_columns(value: str | Mapping[str, object], source: str = "--columns") -> dict[str, str]:
    """``token=1,tag=2`` (or a TOML table) as ``{"tokens": "1", "tags": "2"}``; ConfigError
    naming ``source`` for an unknown key or a missing value."""
    if isinstance(value, Mapping):
        items = [(str(k), str(v)) for k, v in value.items()]
    else:
        items = []
        for part in str(value).split(","):
            if not part.strip():
                continue
            key, eq, name = part.partition("=")
            if not eq:
                raise ConfigError(f"{source} {part.strip()!r}: expected KEY=COLUMN, e.g. tag=2")
            items.append((key, name))
    out: dict[str, str] = {}
    for key, name in items:
        key, name = key.strip().lower(), name.strip()
        key = _ALIASES.get(key, key)
        if key not in COLUMN_KEYS:
            known = ", ".join(("token", "tag", *COLUMN_KEYS))
            raise ConfigError(f"{source}: unknown column key {key!r} (known: {known})")
        if not name:
            raise ConfigError(f"{source}: {key}= needs a column name or position")
        out[key] = name
    return out


def parse_label_names(value: str | list | tuple) -> tuple[str, ...]:
    """``O,B-PER,I-PER`` (or a list) as a tuple of names."""
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(str(v).strip() for v in items if str(v).strip())
