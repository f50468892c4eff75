"""Candidates as Label Studio tasks with predictions (pre-annotations), and the labeling config.

Offsets are checked before anything is sent: ``text[start:end] == value.text`` for every region.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

from parallelner.errors import InputError
from parallelner.filters.alignment import CONFIRMED, UNKNOWN, check_alignment
from parallelner.records import Candidate, Span

SRC_LABEL, SRC_TEXT = "src_label", "src"
TGT_LABEL, TGT_TEXT = "tgt_label", "tgt"
_PACKAGED = Path(__file__).resolve().parent.parent / "_annotation"
CONFIG_PATH = (
    _PACKAGED
    if _PACKAGED.is_dir()
    else Path(__file__).resolve().parent.parent.parent / "annotation"
) / "labeling_config.xml"


def labeling_config(labels: list[str], template: Path | None = None) -> str:
    """The labeling config with one Label element per entity label."""
    text = (template or CONFIG_PATH).read_text(encoding="utf-8")
    elements = "\n    ".join(f"<Label value={quoteattr(label)}/>" for label in sorted(labels))
    return text.replace("<!-- LABELS -->", elements)


def content_hash(c: Candidate) -> str:
    """sha256 of what a reviewer sees: a changed candidate gets a different hash."""
    blob = json.dumps(
        [
            c.src_text,
            c.tgt_text,
            [s.as_dict() for s in c.src_entities],
            [s.as_dict() if s else None for s in c.tgt_entities],
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _region(
    c: Candidate, number: int, side: str, span: Span, text: str, from_name: str, to_name: str
) -> dict:
    if text[span.start : span.end] != span.text:
        raise InputError(
            "candidates", None, f"candidate {c.id}: span {span} does not match its text"
        )
    return {
        "id": f"{side}-{number - 1}",
        "from_name": from_name,
        "to_name": to_name,
        "type": "labels",
        "value": {"start": span.start, "end": span.end, "text": span.text, "labels": [span.label]},
        "meta": {"text": [f"entity {number}"]},
        **({"readonly": True} if side == "src" else {}),  # the source is not reviewed
    }


def _link(number: int) -> dict:
    """The relation (an arrow in Label Studio) from source entity ``number`` to its projection."""
    return {
        "type": "relation",
        "from_id": f"src-{number - 1}",
        "to_id": f"tgt-{number - 1}",
        "direction": "right",
    }


def pairing_table(c: Candidate) -> dict[str, str]:
    """Which target span translates which source entity, numbered as in the prompt:
    ``{"1 · PER · Joe Sternlieb": "喬·斯頓雷"}`` (Label Studio shows it as a table)."""
    return {
        f"{i} · {s.label} · {s.text}": "(not found)" if t is None else t.text
        for i, (s, t) in enumerate(zip(c.src_entities, c.tgt_entities, strict=True), start=1)
    }


def pairing_note(c: Candidate) -> str:
    """What the alignment check found, in words a reviewer acts on."""
    if len(c.src_entities) < 2:
        return "one entity or none: nothing to pair" if c.src_entities else "no entities"
    finding = check_alignment(c)
    if finding.state == CONFIRMED:
        return "pairing confirmed by names and transliterations"
    if finding.state == UNKNOWN:
        return "pairing UNCHECKED: names are translated; check that each number is right"
    hints = [
        f"{i + 1} may be {c.tgt_entities[j].text!r}"  # type: ignore[union-attr]
        for i, j in enumerate(finding.best)
        if j is not None and j != i and c.tgt_entities[j] is not None
    ]
    return "pairing SUSPECT: " + "; ".join(hints)


def task_for(c: Candidate, route: str) -> dict[str, object]:
    """The Label Studio task of ``c``: its data and one prediction holding both sides' spans,
    numbered alike and linked source -> target, so a reviewer sees the pairing, not only the
    labels."""
    result = [
        _region(c, i, "src", s, c.src_text, SRC_LABEL, SRC_TEXT)
        for i, s in enumerate(c.src_entities, start=1)
    ]
    result += [
        _region(c, i, "tgt", s, c.tgt_text, TGT_LABEL, TGT_TEXT)
        for i, s in enumerate(c.tgt_entities, start=1)
        if s is not None
    ]
    result += [_link(i) for i, s in enumerate(c.tgt_entities, start=1) if s is not None]
    confidence = c.confidence if c.confidence is not None else 0.0
    note = f"{route} · confidence {confidence:.2f} · {c.model} · {c.prompt_version} · {c.id}"
    return {
        "data": {
            "candidate_id": c.id,
            "src_lang": c.src_lang,
            "tgt_lang": c.tgt_lang,
            "src_text": c.src_text,
            "tgt_text": c.tgt_text,
            "route": route,
            "confidence": confidence,
            "content_sha256": content_hash(c),
            "review_note": note,
            "pairing": pairing_table(c),
            "pairing_note": pairing_note(c),
        },
        "predictions": [{"model_version": c.prompt_version, "score": confidence, "result": result}],
    }
