"""CoNLL-style token-per-line files: IOB2/BIOES tags, one blank line between sentences.

Handles CoNLL-2003 (``-DOCSTART-``, tag in the last column), UNER/CoNLL-U-like files (an index
column first, ``# sent_id`` and ``# text`` comments) and character-level CJK BIO files (MSRA,
Weibo, Resume: one character a line). The tag column is the last column whose values all look
like tags in the first sentence; the token column is the first, or the second after an index.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from parallelner.detokenize import align_tokens, join_tokens
from parallelner.errors import InputError
from parallelner.readers.base import Located, decode_lines
from parallelner.records import RecordError, Sample, Span
from parallelner.tagging import TAG_RE, TagError, tags_to_ranges


@dataclass
class _Block:
    first_line: int
    sent_id: str | None = None
    text: str | None = None
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    error: InputError | None = None
    docstart: bool = False


def _blocks(path: Path) -> Iterator[_Block]:
    block: _Block | None = None
    for number, line in decode_lines(path):
        if block is None:
            block = _Block(first_line=number)
        if isinstance(line, InputError):
            block.error = block.error or line
            continue
        stripped = line.strip()
        if not stripped:
            if block.rows or block.error or block.text is not None:
                yield block
            block = None
        elif stripped.startswith("-DOCSTART-"):
            block.docstart = True
        elif stripped.startswith("#") and not block.rows:
            key, _, value = stripped[1:].partition("=")
            if key.strip() == "sent_id":
                block.sent_id = value.strip()
            elif key.strip() == "text":
                block.text = value.strip()
        else:
            block.rows.append((number, line.split("\t") if "\t" in line else line.split()))
    if block is not None and (block.rows or block.error or block.text is not None):
        yield block


def _detect_columns(path: Path, block: _Block) -> tuple[int, int]:
    width = len(block.rows[0][1])
    tag_cols = [
        k
        for k in range(width)
        if all(len(cols) <= k or TAG_RE.match(cols[k]) for _, cols in block.rows)
    ]
    if not tag_cols or width < 2:
        raise InputError(
            path, block.rows[0][0], "no tag column: expected a column of O, B-X, I-X, ... tags"
        )
    tag_col = tag_cols[-1]
    has_index = width >= 3 and all(cols[0].isdigit() for _, cols in block.rows if cols)
    return (1 if has_index and tag_col != 1 else 0), tag_col


class ConllReader:
    """Reads one CoNLL-style file into Samples (or InputErrors, one a bad sentence)."""

    def __init__(self, path: Path, lang: str, *, strict: bool = True, chars: bool = False) -> None:
        self.path = path
        self.lang = lang
        self.strict = strict
        self.chars = chars
        self.columns: tuple[int, int] | None = None

    def __iter__(self) -> Iterator[Located | InputError]:
        ordinal = 0
        for block in _blocks(self.path):
            if block.docstart and not block.rows:
                continue
            ordinal += 1
            try:
                yield block.first_line, self._sample(block, ordinal)
            except InputError as e:
                yield e

    def _sample(self, block: _Block, ordinal: int) -> Sample:
        if block.error:
            raise block.error
        if not block.rows:
            raise InputError(self.path, block.first_line, "empty sentence: a header with no tokens")
        if self.columns is None:
            self.columns = _detect_columns(self.path, block)
        tok_col, tag_col = self.columns
        tokens, tags = [], []
        for number, cols in block.rows:
            if len(cols) <= tag_col:
                raise InputError(
                    self.path, number, f"missing tag column {tag_col + 1}: {len(cols)} column(s)"
                )
            tokens.append(cols[tok_col])
            tags.append(cols[tag_col])
        try:
            ranges = tags_to_ranges(tags, strict=self.strict)
        except TagError as e:
            raise InputError(self.path, block.rows[e.index][0], str(e)) from None
        text, offsets = self._offsets(block, tokens)
        spans = tuple(
            Span(offsets[a][0], offsets[b - 1][1], label, text[offsets[a][0] : offsets[b - 1][1]])
            for a, b, label in ranges
        )
        try:
            return Sample(block.sent_id or f"{self.path.stem}-{ordinal}", self.lang, text, spans)
        except RecordError as e:
            raise InputError(self.path, block.first_line, str(e)) from None

    def _offsets(self, block: _Block, tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
        if block.text is None:
            return join_tokens(tokens, unspaced=self.chars)
        try:
            return block.text, align_tokens(block.text, tokens)
        except ValueError as e:
            raise InputError(self.path, block.first_line, f"# text: {e}") from None


def read_conll(
    path: Path, lang: str, *, strict: bool = True, chars: bool = False
) -> Iterator[Located | InputError]:
    """Samples of a CoNLL/IOB2/BIOES file; ``chars`` for one-character-a-line CJK files."""
    return iter(ConllReader(path, lang, strict=strict, chars=chars))
