"""CoNLL-style token-per-line files: one token a line, a blank line between sentences.

Read as their authors publish them, the layout detected from the first sentences:
CoNLL-2003 (``-DOCSTART-``, POS and chunk columns before the tag), UNER/CoNLL-U-like files (an
index column, ``# sent_id`` and ``# text`` comments), GermEval 2014 (index, token, outer and
nested tags: two tag columns, so ``--columns`` must choose), WNUT-17 (a token may begin with
``#``), WikiANN/PAN-X (a language prefix ``en:`` on every token, removed), character-level
CJK files (MSRA, Resume, Weibo: joined without spaces; Weibo's 2nd edition's position digit
after each character removed), with IOB2, IOB1 (``--lenient-tags``), BIOES, BILOU or BMES tags.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

from parallelner.errors import InputError
from parallelner.formats import ReadOptions
from parallelner.readers.base import FileReport, Located, UnreadableFile, decode_lines
from parallelner.records import RecordError, Sample, Span
from parallelner.text.detokenize import align_tokens, join_tokens
from parallelner.text.tagging import TAG_RE, TagError, scheme_of, tags_to_ranges
from parallelner.text.unicode_scripts import is_cjk

#: Sentences looked at to detect the layout before the first sample is given out.
DETECT_BLOCKS = 50
#: Phrase chunk labels (CoNLL-2000/2003's chunk column is IOB too, but names no entities).
CHUNK_LABELS = frozenset(
    ["NP", "VP", "PP", "ADJP", "ADVP", "SBAR", "PRT", "INTJ", "CONJP", "LST", "UCP"]
)
_KEY_VALUE = re.compile(r"^#\s*[\w.:-]+\s*=")  # "# sent_id = ...", "# text = ..."
_LANG_PREFIX = re.compile(r"^([a-z]{2,3}(?:-[a-z]+)?):(?=.)")
_POSITION = re.compile(r"^(.)(\d+)$", re.S)
PREFIX_NOTE = "language prefix {} removed"
POSITION_NOTE = "position digits after each character removed (Weibo 2nd edition)"
HASH_NOTE = "lines beginning with '#' read as tokens (a tag in the tag column)"
IOB1_NOTE = "I- tags that start an entity read as B- (--lenient-tags)"


@dataclass
class _Block:
    first_line: int
    hashes: list[tuple[int, str]] = field(default_factory=list)  # '#' lines before any token
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    error: InputError | None = None
    docstart: bool = False
    sent_id: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class Layout:
    """Where a file keeps its tokens and tags, and what its tokens carry besides the word."""

    token: int
    tag: int
    prefix: str = ""  # a language prefix on every token ("en:"), removed
    positions: bool = False  # a position digit after every character (Weibo 2nd ed.), removed
    chars: bool = False  # one character a line: the text has no spaces
    ending: bool = False  # tags mark entity ends (BIOES, BMES): an unclosed entity is an error


def _columns(line: str) -> list[str]:
    return line.split("\t") if "\t" in line else line.split()


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
            if block.rows or block.hashes or block.error:
                yield block
            block = None
        elif stripped.startswith("-DOCSTART-"):
            block.docstart = True
        elif stripped.startswith("#") and not block.rows:
            block.hashes.append((number, line))  # a comment, or WNUT's '#Astros' token
        else:
            block.rows.append((number, _columns(line)))
    if block is not None and (block.rows or block.hashes or block.error):
        yield block


def _position(path: Path, key: str, value: str) -> int:
    if not value.isdigit():
        raise UnreadableFile(
            path, None, f"--columns {key}={value}: a CoNLL column is a position counted from 0"
        )
    return int(value)


def _tag_columns(rows: list[list[str]], width: int) -> list[int]:
    """Columns whose every value is a tag, phrase-chunk columns left out."""
    found = []
    for k in range(width):
        values = [cols[k] for cols in rows if len(cols) > k]
        if not values or not all(TAG_RE.match(v) for v in values):
            continue
        labels = {v[2:] for v in values if v != "O"}
        if labels and labels <= CHUNK_LABELS:
            continue
        found.append(k)
    return found


def _example(rows: list[list[str]], k: int) -> str:
    """The first tags other than O in column ``k``, to show what it holds."""
    tags = []
    for cols in rows:
        if len(cols) > k and cols[k] != "O" and cols[k] not in tags:
            tags.append(cols[k])
        if len(tags) == 3:
            break
    return ", ".join(tags) if tags else "only O"


def _hint(first: list[str]) -> str:
    """The flag that would read a file whose first token line is ``first``."""
    line = " ".join(first)
    if line.startswith("{"):
        return "this looks like JSONL, not CoNLL: --format jsonl"
    return (
        "name the columns with --columns token=N,tag=M (positions from 0), or give "
        "--format jsonl / parquet"
    )


def detect_layout(path: Path, blocks: list[_Block], options: ReadOptions) -> Layout | None:
    """The layout of ``path`` from its first ``blocks`` (None: they hold no token line)."""
    rows = [cols for b in blocks for _, cols in b.rows]
    if not rows:
        return None
    width = Counter(len(cols) for cols in rows).most_common(1)[0][0]
    has_index = width >= 3 and all(cols[0].isdigit() for cols in rows if cols)
    where = next(b.rows[0][0] for b in blocks if b.rows)
    if "tags" in options.columns:
        tag = _position(path, "tag", options.columns["tags"])
    else:
        found = _tag_columns(rows, width)
        if has_index:
            found = [k for k in found if k != 0]
        if not found or width < 2:
            raise UnreadableFile(
                path,
                where,
                f"no tag column: expected a column of O, B-X, I-X, ... tags, the line holds "
                f"{rows[0]!r}; {_hint(rows[0])}",
            )
        if len(found) > 1:
            token = 1 if has_index else 0
            seen = "; ".join(f"column {k}: {_example(rows, k)}" for k in found)
            raise UnreadableFile(
                path,
                where,
                f"{len(found)} columns hold tags ({seen}; counted from 0), so the tag column is "
                f"ambiguous: choose one with --columns token={token},tag={found[0]} (or "
                f"tag={found[-1]})",
            )
        tag = found[0]
    token = 1 if has_index and tag != 1 else 0
    if "tokens" in options.columns:
        token = _position(path, "token", options.columns["tokens"])
    for k, key in ((token, "token"), (tag, "tag")):
        if k >= width:
            raise UnreadableFile(
                path, where, f"--columns {key}={k}: the lines hold {width} columns (from 0)"
            )
    tokens = [cols[token] for cols in rows if len(cols) > token]
    prefixes = {m.group(0) if m else "" for m in map(_LANG_PREFIX.match, tokens)}
    prefix = prefixes.pop() if len(prefixes) == 1 else ""
    words = [t[len(prefix) :] for t in tokens]
    positions = all(_POSITION.match(w) for w in words) and _mostly_cjk(w[0] for w in words)
    if positions:
        words = [w[0] for w in words]
    chars = options.format == "chars" or (all(len(w) == 1 for w in words) and _mostly_cjk(words))
    ending = any(cols[tag][0] in "ESMLU" for cols in rows if len(cols) > tag)
    return Layout(token, tag, prefix, positions, chars, ending)


def _mostly_cjk(chars: object) -> bool:
    seen = list(chars)  # type: ignore[call-overload]
    return bool(seen) and sum(is_cjk(c[0]) for c in seen) * 2 >= len(seen)


class ConllReader:
    """Reads one CoNLL-style file into Samples (or InputErrors, one a bad sentence)."""

    def __init__(self, path: Path, lang: str, options: ReadOptions, report: FileReport) -> None:
        self.path, self.lang, self.options, self.report = path, lang, options, report
        self.strict = not options.lenient_tags
        self.layout: Layout | None = None
        self.prefixes: set[str] = set()

    def __iter__(self) -> Iterator[Located | InputError]:
        _refuse_other_formats(self.path)
        blocks = _blocks(self.path)
        head = list(islice(blocks, DETECT_BLOCKS))
        self.report.format = "conll"
        self.layout = detect_layout(self.path, head, self.options)
        self._describe()
        ordinal = 0
        for block in chain(head, blocks):
            if self.layout is None and block.rows:  # the first sentences held no token
                self.layout = detect_layout(self.path, [block], self.options)
                self._describe()
            layout = self.layout
            self._resolve(block, layout)
            if not block.rows and block.error is None:
                if block.text is not None:
                    yield InputError(
                        self.path, block.first_line, "empty sentence: a header with no tokens"
                    )
                continue  # a comment, or -DOCSTART-, alone
            ordinal += 1
            try:
                yield block.first_line, self._sample(block, ordinal, layout)
            except InputError as e:
                yield e
            self.report.scheme = scheme_of(self.prefixes)
            if self.report.scheme == "IOB2" and IOB1_NOTE in self.report.normalised:
                self.report.scheme = "IOB1 (read as IOB2)"

    def _describe(self) -> None:
        layout, report = self.layout, self.report
        if layout is None:
            return
        if layout.chars:
            report.format = "conll (one character a line, joined without spaces)"
        report.columns = {"token": str(layout.token), "tag": str(layout.tag)}

    def _resolve(self, block: _Block, layout: Layout | None) -> None:
        """Sort the block's leading '#' lines into comments and tokens (WNUT's ``#Astros``):
        a line is a token when its tag column holds a tag, unless it reads ``# key = value``."""
        width = len(block.rows[0][1]) if block.rows else None
        tokens: list[tuple[int, list[str]]] = []
        for number, line in block.hashes:
            cols = _columns(line)
            is_token = (
                layout is not None
                and not _KEY_VALUE.match(line)
                and len(cols) > max(layout.tag, layout.token)
                and TAG_RE.match(cols[layout.tag]) is not None
                and (width is None or len(cols) == width)
            )
            if tokens or is_token:
                tokens.append((number, cols))
                continue
            key, _, value = line.strip()[1:].partition("=")
            if key.strip() == "sent_id":
                block.sent_id = value.strip()
            elif key.strip() == "text":
                block.text = value.strip()
        if tokens:
            self.report.note(HASH_NOTE, len(tokens))
            block.rows = tokens + block.rows
        block.hashes = []

    def _word(self, token: str, number: int, layout: Layout) -> str:
        if layout.prefix:
            if not token.startswith(layout.prefix):
                raise InputError(
                    self.path,
                    number,
                    f"token {token!r} lacks the language prefix {layout.prefix!r} that the "
                    "file's first sentences have on every token",
                )
            token = token[len(layout.prefix) :]
        if layout.positions:
            m = _POSITION.match(token)
            if m is None:
                raise InputError(
                    self.path,
                    number,
                    f"token {token!r} has no position digit after its character, as the "
                    "file's first sentences have (Weibo 2nd edition)",
                )
            token = m.group(1)
        return token

    def _sample(self, block: _Block, ordinal: int, layout: Layout | None) -> Sample:
        if block.error:
            raise block.error
        assert layout is not None  # a block with rows has set it
        tokens, tags = [], []
        for number, cols in block.rows:
            if len(cols) <= max(layout.tag, layout.token):
                raise InputError(
                    self.path,
                    number,
                    f"{len(cols)} column(s), but the tag is in column {layout.tag} (from 0)",
                )
            tokens.append(self._word(cols[layout.token], number, layout))
            tags.append(cols[layout.tag])
        try:
            ranges = tags_to_ranges(tags, strict=self.strict, ending=layout.ending)
        except TagError as e:
            raise InputError(self.path, block.rows[e.index][0], str(e)) from None
        self._count(tokens, tags, ranges, layout)
        text, offsets = self._offsets(block, tokens, layout)
        spans = tuple(
            Span(offsets[a][0], offsets[b - 1][1], label, text[offsets[a][0] : offsets[b - 1][1]])
            for a, b, label in ranges
        )
        try:
            return Sample(block.sent_id or f"{self.path.stem}-{ordinal}", self.lang, text, spans)
        except RecordError as e:
            raise InputError(self.path, block.first_line, str(e)) from None

    def _count(self, tokens: list[str], tags: list[str], ranges: list, layout: Layout) -> None:
        report = self.report
        report.add_tokens(len(tokens))
        self.prefixes.update(t[0] for t in tags)
        if layout.prefix:
            report.note(PREFIX_NOTE.format(repr(layout.prefix)), len(tokens))
        if layout.positions:
            report.note(POSITION_NOTE, len(tokens))
        if not self.strict:
            report.note(IOB1_NOTE, sum(tags[a][0] in "IM" for a, _, _ in ranges))

    def _offsets(
        self, block: _Block, tokens: list[str], layout: Layout
    ) -> tuple[str, list[tuple[int, int]]]:
        if block.text is None:
            return join_tokens(tokens, unspaced=layout.chars)
        try:
            return block.text, align_tokens(block.text, tokens)
        except ValueError as e:
            raise InputError(self.path, block.first_line, f"# text: {e}") from None


def _refuse_other_formats(path: Path) -> None:
    """A Parquet or JSONL file given as CoNLL: one line naming the flag that reads it."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PAR1"):
        raise UnreadableFile(path, None, "this is a Parquet file, not CoNLL: --format parquet")
    if head.lstrip().startswith(b"{"):
        raise UnreadableFile(path, 1, "this looks like JSONL, not CoNLL: --format jsonl")


def read_conll(
    path: Path, lang: str, options: ReadOptions, report: FileReport
) -> Iterator[Located | InputError]:
    """Samples of a CoNLL-style file (``options.format == "chars"``: one character a line)."""
    return iter(ConllReader(path, lang, options, report))
