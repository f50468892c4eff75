"""BIO/BIOES tag sequences to spans and back.

>>> tags_to_ranges(["B-PER", "I-PER", "O", "S-LOC"])
[(0, 2, 'PER'), (3, 4, 'LOC')]
"""

from __future__ import annotations

import re

TAG_RE = re.compile(r"^(O|[BIESLU][-_].+)$")


class TagError(ValueError):
    """A tag sequence that breaks the scheme; ``index`` is the offending token."""

    def __init__(self, index: int, message: str) -> None:
        self.index = index
        super().__init__(message)


def _split(tag: str, index: int) -> tuple[str, str]:
    if tag == "O":
        return "O", ""
    if not TAG_RE.match(tag):
        raise TagError(index, f"tag {tag!r} is not O, B-X, I-X, E-X, S-X (or L-X, U-X)")
    return tag[0], tag[2:]


def tags_to_ranges(tags: list[str], *, strict: bool = True) -> list[tuple[int, int, str]]:
    """Token ranges ``(first, last + 1, label)`` of the entities that BIO/BIOES ``tags`` mark.

    strict: an I-/E- that does not continue an entity of the same label is an error; when
    False it starts a new entity (the IOB1 reading).
    """
    ranges: list[tuple[int, int, str]] = []
    open_start: int | None = None
    open_label = ""

    def close(end: int) -> None:
        nonlocal open_start
        if open_start is not None:
            ranges.append((open_start, end, open_label))
            open_start = None

    for i, tag in enumerate(tags):
        prefix, label = _split(tag, i)
        continues = open_start is not None and label == open_label
        if prefix in ("I", "E", "L") and not continues:
            if strict:
                before = tags[i - 1] if i else "sentence start"
                raise TagError(i, f"{tag} follows {before}: an entity must start with B- or S-")
            prefix = "B" if prefix == "I" else "S"
        if prefix in ("O", "B", "S", "U"):
            close(i)
        if prefix in ("B", "S", "U"):
            open_start, open_label = i, label
        if prefix in ("S", "U", "E", "L"):
            close(i + 1)
    close(len(tags))
    return ranges


def ranges_to_bio(n_tokens: int, ranges: list[tuple[int, int, str]]) -> list[str]:
    """BIO tags for ``n_tokens`` tokens with entities on token ``ranges``."""
    tags = ["O"] * n_tokens
    for first, end, label in ranges:
        tags[first] = f"B-{label}"
        for k in range(first + 1, end):
            tags[k] = f"I-{label}"
    return tags
