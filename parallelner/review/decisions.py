"""Finished Label Studio annotations -> one Decision per candidate.

Resolution rule when several annotators finished a task (documented in docs/review.md):
1. any **reject** -> ``discarded`` (a pair a person rejected never reaches trainers), with the
   first rejecting annotator's reason; ``conflict`` is set when someone else approved;
2. else, any **correction** (a corrected translation, or target spans that differ from the
   prediction) -> ``corrected`` with the latest correction; ``conflict`` when corrections differ;
3. else ``approved``.
Skipped (cancelled) annotations and annotations without a decision do not count.

Offsets are re-validated: a region whose ``text[start:end]`` is not its text is read as UTF-16
offsets (what a browser counts around emoji), else placed on the nearest occurrence of its
text; if neither works the decision is ``discarded`` with reason ``invalid_correction``. A
corrected translation gets its spans by locating each entity's text in it (projection).
"""

from __future__ import annotations

from dataclasses import dataclass

from parallelner.records import Decision, RecordError, Span
from parallelner.review.tasks import TGT_LABEL
from parallelner.text.projection import locate_entities

INVALID_CORRECTION = "invalid_correction"


@dataclass(frozen=True)
class Verdict:
    """One annotator's finished annotation, read."""

    decision: str
    reason: str | None
    spans: tuple[Span, ...] | None  # None: no target regions, i.e. as predicted
    corrected_text: str | None
    user: str
    updated_at: str
    invalid: str | None = None


def utf16_to_index(text: str, offset: int) -> int:
    """The code-point index of a UTF-16 offset into ``text``."""
    units = 0
    for i, ch in enumerate(text):
        if units >= offset:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


def place_region(text: str, start: int, end: int, surface: str) -> tuple[int, int] | None:
    """Code-point offsets of a region whose stated offsets may be UTF-16 or slightly off."""
    if text[start:end] == surface:
        return start, end
    s16, e16 = utf16_to_index(text, start), utf16_to_index(text, end)
    if text[s16:e16] == surface:
        return s16, e16
    hits = [i for i in range(len(text)) if text.startswith(surface, i)] if surface else []
    if not hits:
        return None
    best = min(hits, key=lambda i: abs(i - start))
    return best, best + len(surface)


def _choice(result: list[dict], name: str) -> str | None:
    for r in result:
        if r.get("from_name") == name and r.get("value", {}).get("choices"):
            return r["value"]["choices"][0]
    return None


def _text_area(result: list[dict], name: str) -> str | None:
    for r in result:
        if r.get("from_name") == name:
            texts = [t.strip() for t in r.get("value", {}).get("text", []) if t.strip()]
            if texts:
                return texts[0]
    return None


def _regions(result: list[dict], text: str) -> tuple[tuple[Span, ...] | None, str | None]:
    regions = [r for r in result if r.get("from_name") == TGT_LABEL and r.get("type") == "labels"]
    if not regions:
        return None, None
    spans = []
    for r in regions:
        v = r["value"]
        placed = place_region(text, int(v["start"]), int(v["end"]), v.get("text", ""))
        if placed is None or not v.get("labels"):
            return None, INVALID_CORRECTION
        spans.append(Span(placed[0], placed[1], v["labels"][0], text[placed[0] : placed[1]]))
    return tuple(sorted(spans, key=lambda s: (s.start, s.end))), None


def read_annotation(annotation: dict, tgt_text: str, users: dict[int, str]) -> Verdict | None:
    """The verdict of one annotation, or None when it was skipped or has no decision."""
    result = annotation.get("result") or []
    decision = _choice(result, "decision")
    if annotation.get("was_cancelled") or decision not in ("approve", "reject"):
        return None
    spans, invalid = _regions(result, tgt_text)
    user_id = annotation.get("completed_by")
    return Verdict(
        decision=decision,
        reason=_choice(result, "reject_reason"),
        spans=spans,
        corrected_text=_text_area(result, "corrected_translation"),
        user=users.get(user_id, str(user_id)) if isinstance(user_id, int) else str(user_id),
        updated_at=str(annotation.get("updated_at") or annotation.get("created_at") or ""),
        invalid=invalid,
    )


def predicted_spans(task: dict) -> tuple[Span, ...]:
    """The target spans the task was pushed with."""
    text = task["data"]["tgt_text"]
    for prediction in task.get("predictions") or []:
        spans, _ = _regions(prediction.get("result") or [], text)
        return spans or ()
    return ()


def _key(span: Span) -> tuple[int, int, str]:
    return span.start, span.end, span.label


def _corrected(v: Verdict, predicted: tuple[Span, ...]) -> bool:
    changed_spans = v.spans is not None and sorted(map(_key, v.spans)) != sorted(
        map(_key, predicted)
    )
    return bool(v.corrected_text) or changed_spans


def _relocate(text: str, spans: tuple[Span, ...]) -> tuple[Span, ...] | None:
    located = locate_entities(text, [s.text for s in spans])
    if any(isinstance(x, str) for x in located):
        return None
    return tuple(
        sorted(
            (Span(a, b, s.label, text[a:b]) for s, (a, b) in zip(spans, located, strict=True)),  # type: ignore[misc]
            key=lambda s: (s.start, s.end),
        )
    )


def decide(task: dict, users: dict[int, str]) -> Decision | None:
    """The decision of a task's finished annotations (None while none is finished)."""
    data = task["data"]
    verdicts = [
        v
        for a in task.get("annotations") or []
        if (v := read_annotation(a, data["tgt_text"], users)) is not None
    ]
    if not verdicts:
        return None
    common = {
        "id": data["candidate_id"],
        "reviewer": ",".join(sorted({v.user for v in verdicts})),
        "reviewed_at": max(v.updated_at for v in verdicts),
        "route": data.get("route", ""),
        "task_id": int(task["id"]),
        "annotations": len(verdicts),
    }
    rejects = [v for v in verdicts if v.decision == "reject"]
    if rejects:
        return Decision(
            review_status="discarded",
            review_reason=rejects[0].reason or "rejected",
            conflict=len(rejects) < len(verdicts),
            **common,
        )
    predicted = predicted_spans(task)
    corrections = sorted(
        (v for v in verdicts if _corrected(v, predicted)), key=lambda v: v.updated_at
    )
    if any(v.invalid for v in verdicts):
        return Decision(review_status="discarded", review_reason=INVALID_CORRECTION, **common)
    if not corrections:
        return Decision(review_status="approved", **common)
    latest = corrections[-1]
    distinct = {(v.corrected_text, tuple(map(_key, v.spans or predicted))) for v in corrections}
    spans = latest.spans if latest.spans is not None else predicted
    text = latest.corrected_text or data["tgt_text"]
    if latest.corrected_text:
        spans = _relocate(text, spans)
    try:
        if spans is None:
            raise RecordError("an entity of the correction is not in the corrected translation")
        return Decision(
            review_status="corrected",
            conflict=len(distinct) > 1,
            tgt_text=text,
            tgt_entities=spans,
            **common,
        )
    except RecordError:
        return Decision(review_status="discarded", review_reason=INVALID_CORRECTION, **common)
