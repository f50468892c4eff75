"""The names of the input formats the readers know (light: the CLI's parser needs them)."""

from __future__ import annotations

from typing import Literal

Format = Literal["auto", "conll", "chars", "jsonl", "parquet"]
FORMATS: tuple[str, ...] = ("auto", "conll", "chars", "jsonl", "parquet")
