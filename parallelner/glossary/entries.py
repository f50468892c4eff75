"""The glossary: required target renderings of source entities, one entry a line.

A file is TSV (``.tsv``: a header ``source label pair target origin``, then one entry a
line) or JSONL (any other name: ``{"source", "label", "pair", "target", "origin"}``). ``pair``
is ``src-tgt`` (``en-zh``); ``origin`` says where an entry comes from, and decides which of two
entries for one entity wins: ``user`` (written by a person) over ``review`` (an annotator's
correction) over ``majority`` (the run's own most frequent rendering).

Entities match by their normalised surface (NFKC, case folded, white space collapsed) and
label, so "Clinton" and "CLINTON " are one entity; targets compare the same way.

>>> g = Glossary.of([GlossaryEntry("Clinton", "PER", "en-zh", "克林顿", "majority")])
>>> g.lookup("en-zh", "PER", "clinton").target
'克林顿'
>>> g.lookup("en-zh", "LOC", "Clinton") is None
True
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from parallelner.errors import InputError
from parallelner.records import Span

#: Where an entry comes from, strongest first: a user's outranks a reviewer's, which
#: outranks the run's majority.
ORIGINS = ("user", "review", "majority")
FIELDS = ("source", "label", "pair", "target", "origin")


def normalise(text: str) -> str:
    """The form two renderings are compared in: NFKC, case folded, white space collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class GlossaryEntry:
    """One required rendering: ``source`` (labelled ``label``) is written ``target`` in the
    ``pair``'s target language."""

    source: str
    label: str
    pair: str
    target: str
    origin: str = "user"

    def __post_init__(self) -> None:
        for name in FIELDS:
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} is empty")
            if "\t" in value or "\n" in value:
                raise ValueError(f"{name} {value!r} holds a tab or a line break")
        if self.origin not in ORIGINS:
            raise ValueError(f"origin {self.origin!r} is not one of {', '.join(ORIGINS)}")
        if len(self.pair.split("-")) < 2:
            raise ValueError(f"pair {self.pair!r} is not a language pair like en-zh")

    @property
    def key(self) -> tuple[str, str, str]:
        return self.pair, self.label, normalise(self.source)

    @property
    def rank(self) -> int:
        return ORIGINS.index(self.origin)


@dataclass(frozen=True)
class Glossary:
    """Entries by (pair, label, normalised source); where two entries name one entity, the
    one of the stronger origin (``ORIGINS``) is kept."""

    entries: dict[tuple[str, str, str], GlossaryEntry]

    @classmethod
    def of(cls, entries: Iterable[GlossaryEntry]) -> Glossary:
        kept: dict[tuple[str, str, str], GlossaryEntry] = {}
        for e in entries:
            old = kept.get(e.key)
            if old is None or e.rank < old.rank:
                kept[e.key] = e
        return cls(kept)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[GlossaryEntry]:
        return iter(sorted(self.entries.values(), key=lambda e: (e.pair, e.label, e.source)))

    def lookup(self, pair: str, label: str, source: str) -> GlossaryEntry | None:
        return self.entries.get((pair, label, normalise(source)))

    def for_entities(self, pair: str, spans: Iterable[Span]) -> list[GlossaryEntry | None]:
        """The entry of each entity of a sample (None where there is none)."""
        return [self.lookup(pair, s.label, s.text) for s in spans]

    def agrees(self, entry: GlossaryEntry, target: str) -> bool:
        """Whether ``target`` is the entry's rendering (compared normalised)."""
        return normalise(target) == normalise(entry.target)

    def digest(self) -> str:
        """sha256 of the entries (for the settings fingerprint and report.json)."""
        blob = "\n".join("\t".join(getattr(e, f) for f in FIELDS) for e in self)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def load_glossary(path: Path | str) -> Glossary:
    """The glossary in ``path`` (TSV or JSONL); InputError naming path:line for a bad entry."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(path, None, f"cannot read the glossary ({e}); check --glossary") from None
    rows = _tsv_rows(path, text) if path.suffix.lower() == ".tsv" else _jsonl_rows(path, text)
    entries = []
    for line, row in rows:
        try:
            entries.append(GlossaryEntry(**row))
        except (TypeError, ValueError) as e:
            raise InputError(path, line, f"not a glossary entry: {e}") from None
    return Glossary.of(entries)


def glossary_of(path: str) -> Glossary | None:
    """The glossary a setting names (None for ""), read once per process while the file is
    unchanged (every worker and judge of a run asks for it)."""
    if not path:
        return None
    try:
        stat = Path(path).stat()
    except OSError as e:
        raise InputError(path, None, f"cannot read the glossary ({e}); check --glossary") from None
    return _cached(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int, size: int) -> Glossary:
    return load_glossary(path)


def _tsv_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, str]]]:
    lines = text.splitlines()
    header = lines[0].split("\t") if lines else []
    if tuple(header) != FIELDS:
        raise InputError(path, 1, f"the header must be {' '.join(FIELDS)} (tab-separated)")
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(FIELDS):
            raise InputError(path, n, f"{len(cells)} cells, expected {len(FIELDS)}")
        yield n, dict(zip(FIELDS, cells, strict=True))


def _jsonl_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, str]]]:
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as e:
            raise InputError(path, n, f"not JSON: {e}") from None
        if not isinstance(row, dict):
            raise InputError(path, n, "expected a JSON object")
        yield n, row


def glossary_text(entries: Iterable[GlossaryEntry], tsv: bool) -> str:
    """The file text of ``entries``: TSV with its header, or JSONL."""
    if tsv:
        lines = ["\t".join(FIELDS)] + ["\t".join(getattr(e, f) for f in FIELDS) for e in entries]
    else:
        lines = [json.dumps(asdict(e), ensure_ascii=False) for e in entries]
    return "\n".join(lines) + "\n"
