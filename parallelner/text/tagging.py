"""BIO/BIOES/BMES tag sequences to spans and back.

>>> tags_to_ranges(["B-PER", "I-PER", "O", "S-LOC"])
[(0, 2, 'PER'), (3, 4, 'LOC')]
>>> tags_to_ranges(["B-ORG", "M-ORG", "E-ORG"])  # BMES: M- is inside
[(0, 3, 'ORG')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TAG_RE = re.compile(r"^(O|[BIMESLU][-_].+)$")
#: Prefixes that continue an entity, and those that end one (BIOES/BILOU/BMES).
_INSIDE = frozenset("IM")
_ENDING = frozenset("ESLU")


class TagError(ValueError):
    """A tag sequence that breaks the scheme; ``index`` is the offending token."""

    def __init__(self, index: int, message: str) -> None:
        self.index = index
        super().__init__(message)


def _split(tag: str, index: int) -> tuple[str, str]:
    if tag == "O":
        return "O", ""
    if not TAG_RE.match(tag):
        raise TagError(index, f"tag {tag!r} is not O, B-X, I-X, E-X, S-X, M-X (or L-X, U-X)")
    return tag[0], tag[2:]


def scheme_of(prefixes: Iterable[str]) -> str:
    """The name of the tag scheme whose prefixes are ``prefixes`` (``{"B", "I"}`` -> IOB2)."""
    seen = set(prefixes) - {"O"}
    if "M" in seen:
        return "BMES"
    if seen & {"L", "U"}:
        return "BILOU"
    if seen & {"E", "S"}:
        return "BIOES"
    return "IOB2" if seen else "none (every tag O)"


def tags_to_ranges(
    tags: list[str], *, strict: bool = True, ending: bool = False
) -> list[tuple[int, int, str]]:
    """Token ranges ``(first, last + 1, label)`` of the entities that BIO/BIOES/BMES ``tags`` mark.

    strict: an I-/M-/E- that does not continue an entity of the same label is an error; when
    False it starts a new entity (the IOB1 reading). ending: the file marks the end of each
    entity (BIOES, BMES, BILOU), so strict also refuses an entity that stops without E-/L-.
    """
    ranges: list[tuple[int, int, str]] = []
    open_start: int | None = None
    open_label = ""

    def close(end: int, by: int) -> None:
        nonlocal open_start
        if open_start is None:
            return
        if strict and ending and by >= 0:
            after = tags[by] if by < len(tags) else "the sentence end"
            raise TagError(
                open_start,
                f"{tags[open_start]} at token {open_start + 1} is not closed by E-{open_label} "
                f"before {after} (a BIOES/BMES file): fix the tags, or rerun with "
                "--lenient-tags to read them as IOB",
            )
        ranges.append((open_start, end, open_label))
        open_start = None

    for i, tag in enumerate(tags):
        prefix, label = _split(tag, i)
        continues = open_start is not None and label == open_label
        if (prefix in _INSIDE or prefix in "EL") and not continues:
            if strict:
                before = f"after {tags[i - 1]}" if i else "at the sentence start"
                raise TagError(
                    i,
                    f"{tag} starts an entity ({before}): an IOB1 file? rerun with --lenient-tags",
                )
            prefix = "B" if prefix in _INSIDE else "S"
        if prefix in ("O", "B", "S", "U"):
            close(i, i)
        if prefix in ("B", "S", "U"):
            open_start, open_label = i, label
        if prefix in _ENDING:
            close(i + 1, -1)
    close(len(tags), len(tags))
    return ranges


def ranges_to_bio(n_tokens: int, ranges: list[tuple[int, int, str]]) -> list[str]:
    """BIO tags for ``n_tokens`` tokens with entities on token ranges ``ranges``."""
    tags = ["O"] * n_tokens
    for first, end, label in ranges:
        tags[first] = f"B-{label}"
        for k in range(first + 1, end):
            tags[k] = f"I-{label}"
    return tags
