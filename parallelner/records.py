"""The record types every stage passes along, and the Parquet schema of a candidate.

Offsets are character offsets in Python code points, end exclusive, so ``text[start:end]`` is
the entity's surface form in every language (CJK and emoji included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

import pyarrow as pa

Status = Literal["passed", "rejected", "failed"]
STATUSES: tuple[str, ...] = ("passed", "rejected", "failed")


class RecordError(ValueError):
    """A record that breaks its own invariants (span outside the text, overlap, ...)."""


#: A language code of BCP-47 shape (``en``, ``zh``, ``pt-BR``, ``zh-Hant``, ``yue``): it goes
#: into folder names (``CORPUS/en-zh/``), so nothing else may pass.
LANG_CODE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
#: An entity label: a letter, digit or underscore, then those or ``. : / + -``, 64 at most
#: (``PER``, ``WORK_OF_ART``, ``org:founded_by``). Labels go into Label Studio's XML config.
LABEL = re.compile(r"\w[\w.:/+-]{0,63}")


def check_lang(code: str, what: str = "language code") -> None:
    """RecordError unless ``code`` has the shape of a BCP-47 language tag."""
    if not isinstance(code, str) or not LANG_CODE.fullmatch(code):
        raise RecordError(
            f"{what} {code!r} is not a language code (two or three letters, then -subtags: "
            "en, zh, pt-BR, zh-Hant)"
        )


def primary_language(code: str) -> str:
    """The primary subtag of a language tag, lower case: ``zh`` of ``zh-Hant``, ``pt`` of
    ``PT-br``."""
    return code.split("-")[0].lower()


def check_text(text: str, what: str = "text") -> None:
    """RecordError for a NUL character or a lone surrogate (neither survives UTF-8 files)."""
    nul = text.find("\x00")
    if nul >= 0:
        raise RecordError(f"{what}: NUL character at offset {nul}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise RecordError(
            f"{what}: lone surrogate {text[e.start]!r} at offset {e.start} (not valid Unicode)"
        ) from None


@dataclass(frozen=True, slots=True)
class Span:
    """One entity mention: ``text[start:end] == span.text``."""

    start: int
    end: int
    label: str
    text: str

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def as_dict(self) -> dict[str, int | str]:
        return {"start": self.start, "end": self.end, "label": self.label, "text": self.text}


def check_spans(text: str, spans: tuple[Span, ...], *, allow_nested: bool = False) -> None:
    """Raise RecordError unless every span lies inside ``text``, matches it, and none overlap."""
    for i, span in enumerate(spans):
        if not isinstance(span.label, str) or not LABEL.fullmatch(span.label):
            raise RecordError(
                f"entity {i}: label {span.label!r} is not a label (letters, digits, _ . : / + -; "
                "at most 64)"
            )
        if not 0 <= span.start < span.end <= len(text):
            raise RecordError(
                f"entity {i} ({span.label}) [{span.start}, {span.end}) is outside the text "
                f"of length {len(text)}"
            )
        if text[span.start : span.end] != span.text:
            raise RecordError(
                f"entity {i} ({span.label}) [{span.start}, {span.end}) is "
                f"{text[span.start : span.end]!r} in the text but {span.text!r} in the entity"
            )
    if allow_nested:
        return
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.overlaps(b):
            raise RecordError(
                f"entities {a.text!r} [{a.start}, {a.end}) and {b.text!r} "
                f"[{b.start}, {b.end}) overlap"
            )


@dataclass(frozen=True, slots=True)
class Sample:
    """One annotated sentence of a source corpus; entities sorted by start offset."""

    id: str
    lang: str
    text: str
    entities: tuple[Span, ...] = ()

    def __post_init__(self) -> None:
        if not self.id:
            raise RecordError("empty id")
        if not self.text.strip():
            raise RecordError(f"sample {self.id}: empty text")
        check_lang(self.lang)
        check_text(self.id, f"sample {self.id!r}: id")
        check_text(self.text, f"sample {self.id}")
        ordered = tuple(sorted(self.entities, key=lambda s: (s.start, s.end)))
        object.__setattr__(self, "entities", ordered)
        try:
            check_spans(self.text, ordered)
        except RecordError as e:
            raise RecordError(f"sample {self.id}: {e}") from None


#: How a target entity was found (see parallelner.translation.recovery).
PROJECTION_METHODS = ("model", "normalised", "asked", "located")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A translated sample: ``tgt_entities[i]`` is the projection of ``src_entities[i]``.

    A target entity that could not be projected is ``None``; the reasons say why.
    """

    id: str
    source_id: str
    src_lang: str
    tgt_lang: str
    src_text: str
    tgt_text: str
    src_entities: tuple[Span, ...]
    tgt_entities: tuple[Span | None, ...]
    status: Status
    reasons: tuple[str, ...] = ()
    attempts: int = 0
    model: str = ""
    prompt_version: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    raw_reply: str = ""
    confidence: float | None = None
    # how each target entity was found (recovery.METHODS: model, normalised, asked, located),
    # None where it was not; () in parts written before projection methods were recorded
    projection: tuple[str | None, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise RecordError(f"candidate {self.id}: unknown status {self.status!r}")
        if (self.status == "passed") == bool(self.reasons):
            raise RecordError(
                f"candidate {self.id}: status {self.status!r} with reasons {list(self.reasons)}"
            )
        check_lang(self.src_lang, f"candidate {self.id}: src_lang")
        check_lang(self.tgt_lang, f"candidate {self.id}: tgt_lang")
        if len(self.tgt_entities) != len(self.src_entities):
            raise RecordError(
                f"candidate {self.id}: {len(self.src_entities)} source entities but "
                f"{len(self.tgt_entities)} target entities"
            )
        if self.projection and len(self.projection) != len(self.tgt_entities):
            raise RecordError(
                f"candidate {self.id}: {len(self.projection)} projection methods for "
                f"{len(self.tgt_entities)} target entities"
            )
        if unknown := {m for m in self.projection if m is not None} - set(PROJECTION_METHODS):
            raise RecordError(f"candidate {self.id}: unknown projection method {sorted(unknown)}")
        try:
            check_spans(self.src_text, self.src_entities)
            check_spans(self.tgt_text, tuple(s for s in self.tgt_entities if s is not None))
        except RecordError as e:
            raise RecordError(f"candidate {self.id}: {e}") from None

    @staticmethod
    def make_id(source_id: str, src_lang: str, tgt_lang: str) -> str:
        return f"{source_id}:{src_lang}-{tgt_lang}"

    def with_verdict(self, reasons: tuple[str, ...], confidence: float | None) -> Candidate:
        """The same candidate re-judged: status follows the reasons (``failed`` stays failed)."""
        status: Status = (
            "failed" if self.status == "failed" else ("rejected" if reasons else "passed")
        )
        if status == "failed" and not reasons:
            reasons = self.reasons
        return replace(self, status=status, reasons=reasons, confidence=confidence)


SPAN_TYPE = pa.struct(
    [
        pa.field("start", pa.int32(), nullable=False),
        pa.field("end", pa.int32(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
    ]
)

#: Columns of ``DIR/candidates/part-*.parquet``. Later stages add columns, never rename these.
CANDIDATE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("src_lang", pa.string(), nullable=False),
        pa.field("tgt_lang", pa.string(), nullable=False),
        pa.field("src_text", pa.string(), nullable=False),
        pa.field("tgt_text", pa.string(), nullable=False),
        pa.field("src_entities", pa.list_(SPAN_TYPE), nullable=False),
        # An element is null where the entity could not be projected.
        pa.field("tgt_entities", pa.list_(pa.field("item", SPAN_TYPE, nullable=True))),
        pa.field("status", pa.string(), nullable=False),
        pa.field("reasons", pa.list_(pa.string()), nullable=False),
        pa.field("attempts", pa.int32(), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("prompt_version", pa.string(), nullable=False),
        pa.field("prompt_tokens", pa.int64(), nullable=False),
        pa.field("completion_tokens", pa.int64(), nullable=False),
        pa.field("raw_reply", pa.string(), nullable=False),
        pa.field("confidence", pa.float64(), nullable=True),
        # How each target entity was found; an element is null where it was not found.
        pa.field("projection", pa.list_(pa.field("item", pa.string(), nullable=True))),
    ]
)


def candidate_to_row(c: Candidate) -> dict[str, object]:
    """One Parquet row (a dict keyed by CANDIDATE_SCHEMA's names)."""
    return {
        "id": c.id,
        "source_id": c.source_id,
        "src_lang": c.src_lang,
        "tgt_lang": c.tgt_lang,
        "src_text": c.src_text,
        "tgt_text": c.tgt_text,
        "src_entities": [s.as_dict() for s in c.src_entities],
        "tgt_entities": [None if s is None else s.as_dict() for s in c.tgt_entities],
        "status": c.status,
        "reasons": list(c.reasons),
        "attempts": c.attempts,
        "model": c.model,
        "prompt_version": c.prompt_version,
        "prompt_tokens": c.prompt_tokens,
        "completion_tokens": c.completion_tokens,
        "raw_reply": c.raw_reply,
        "confidence": c.confidence,
        "projection": list(c.projection),
    }


def _span(d: dict[str, object] | None) -> Span | None:
    if d is None:
        return None
    return Span(int(d["start"]), int(d["end"]), str(d["label"]), str(d["text"]))  # type: ignore[arg-type]


def candidate_from_row(row: dict[str, object]) -> Candidate:
    """Inverse of candidate_to_row; validates the record."""
    src = tuple(_span(d) for d in row["src_entities"])  # type: ignore[union-attr]
    return Candidate(
        id=str(row["id"]),
        source_id=str(row["source_id"]),
        src_lang=str(row["src_lang"]),
        tgt_lang=str(row["tgt_lang"]),
        src_text=str(row["src_text"]),
        tgt_text=str(row["tgt_text"]),
        src_entities=src,  # type: ignore[arg-type]
        tgt_entities=tuple(_span(d) for d in row["tgt_entities"]),  # type: ignore[union-attr]
        status=row["status"],  # type: ignore[arg-type]
        reasons=tuple(row["reasons"]),  # type: ignore[arg-type]
        attempts=int(row["attempts"]),  # type: ignore[arg-type]
        model=str(row["model"]),
        prompt_version=str(row["prompt_version"]),
        prompt_tokens=int(row["prompt_tokens"]),  # type: ignore[arg-type]
        completion_tokens=int(row["completion_tokens"]),  # type: ignore[arg-type]
        raw_reply=str(row.get("raw_reply") or ""),
        confidence=row.get("confidence"),  # type: ignore[arg-type]
        projection=tuple(row.get("projection") or ()),  # type: ignore[arg-type]
    )


ReviewStatus = Literal["approved", "corrected", "discarded"]
REVIEW_STATUSES: tuple[str, ...] = ("approved", "corrected", "discarded")


@dataclass(frozen=True, slots=True)
class Decision:
    """What people decided about one candidate in review (from finished annotations).

    ``tgt_text``/``tgt_entities`` are set only when the annotators corrected them; the
    candidate's own columns are never rewritten.
    """

    id: str
    review_status: ReviewStatus
    reviewer: str
    reviewed_at: str
    route: str
    task_id: int
    annotations: int = 1
    conflict: bool = False
    review_reason: str | None = None
    tgt_text: str | None = None
    tgt_entities: tuple[Span, ...] | None = None

    def __post_init__(self) -> None:
        if self.review_status not in REVIEW_STATUSES:
            raise RecordError(f"decision {self.id}: unknown review_status {self.review_status!r}")
        if self.tgt_entities is not None:
            text = self.tgt_text
            if text is None:
                raise RecordError(f"decision {self.id}: corrected spans without the text")
            try:
                check_spans(text, self.tgt_entities)
            except RecordError as e:
                raise RecordError(f"decision {self.id}: {e}") from None


#: Columns of ``DIR/review/decisions.parquet``, joined to the candidates by ``id``.
DECISION_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("review_status", pa.string(), nullable=False),
        pa.field("review_reason", pa.string()),
        pa.field("reviewer", pa.string(), nullable=False),
        pa.field("reviewed_at", pa.string(), nullable=False),
        pa.field("route", pa.string(), nullable=False),
        pa.field("task_id", pa.int64(), nullable=False),
        pa.field("annotations", pa.int32(), nullable=False),
        pa.field("conflict", pa.bool_(), nullable=False),
        pa.field("review_tgt_text", pa.string()),
        pa.field("review_tgt_entities", pa.list_(SPAN_TYPE)),
    ]
)


def decision_to_row(d: Decision) -> dict[str, object]:
    return {
        "id": d.id,
        "review_status": d.review_status,
        "review_reason": d.review_reason,
        "reviewer": d.reviewer,
        "reviewed_at": d.reviewed_at,
        "route": d.route,
        "task_id": d.task_id,
        "annotations": d.annotations,
        "conflict": d.conflict,
        "review_tgt_text": d.tgt_text,
        "review_tgt_entities": None
        if d.tgt_entities is None
        else [s.as_dict() for s in d.tgt_entities],
    }


#: Columns of the exported corpus shards (``CORPUS/<src>-<tgt>/part-*.parquet``): the candidate
#: columns (the raw reply left out), the review columns, and tokens with BIO tags on both sides.
EXPORT_SCHEMA = pa.schema(
    [f for f in CANDIDATE_SCHEMA if f.name not in ("tgt_entities", "raw_reply")]
    + [
        pa.field("tgt_entities", pa.list_(SPAN_TYPE), nullable=False),
        pa.field("review_status", pa.string()),  # approved, corrected; null: accepted unreviewed
        pa.field("reviewer", pa.string()),
        pa.field("reviewed_at", pa.string()),
        pa.field("src_tokens", pa.list_(pa.string()), nullable=False),
        pa.field("src_tags", pa.list_(pa.string()), nullable=False),
        pa.field("tgt_tokens", pa.list_(pa.string()), nullable=False),
        pa.field("tgt_tags", pa.list_(pa.string()), nullable=False),
        # The tags as class ids into the manifest's ``tag_names`` (O, then B-/I- per label).
        pa.field("src_tag_ids", pa.list_(pa.int16()), nullable=False),
        pa.field("tgt_tag_ids", pa.list_(pa.int16()), nullable=False),
    ],
    metadata={"parallelner_schema_version": "2"},
)
