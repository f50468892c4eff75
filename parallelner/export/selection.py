"""Which candidates go into the corpus, with reviewers' corrections applied.

``reviewed``: pairs people approved or corrected. ``auto``: those, plus passed pairs that the
review routing did not send to people (all passed pairs when nothing was pushed). A pair a
person discarded, or one routed to review and still pending, is never exported.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from parallelner.config import RoutingSettings
from parallelner.errors import InputError
from parallelner.records import RecordError, Span, check_spans
from parallelner.review.jobs import iter_candidates_with_decisions
from parallelner.review.routing import route_of

Include = Literal["auto", "reviewed"]


class ExportError(InputError):
    """A candidate that cannot be exported as it is (names the candidate)."""


def _routing(out_dir: Path) -> RoutingSettings | None:
    push = out_dir / "review" / "push.json"
    if not push.exists():
        return None
    return RoutingSettings(**json.loads(push.read_text(encoding="utf-8"))["routing"])


def _spans(rows: list[dict] | None) -> tuple[Span, ...]:
    return tuple(Span(r["start"], r["end"], r["label"], r["text"]) for r in rows or [] if r)


def _checked(row: dict) -> dict:
    """The row as exported: corrections applied, every span checked against its text."""
    if row["review_status"] == "corrected":
        row = {
            **row,
            "tgt_text": row["review_tgt_text"],
            "tgt_entities": row["review_tgt_entities"],
        }
    tgt = _spans(row["tgt_entities"])
    try:
        check_spans(row["src_text"], _spans(row["src_entities"]))
        check_spans(row["tgt_text"], tgt)
    except RecordError as e:
        raise ExportError("candidates", None, f"candidate {row['id']}: {e}") from None
    row["tgt_entities"] = [s.as_dict() for s in sorted(tgt, key=lambda s: (s.start, s.end))]
    return row


def select_rows(out_dir: Path, include: Include, counts: Counter[str]) -> Iterator[dict]:
    """The exported rows of ``out_dir``, in candidate-part order; ``counts`` says why each
    candidate was taken or left."""
    routing = _routing(out_dir)
    for table in iter_candidates_with_decisions(out_dir):
        for row in table.to_pylist():
            review = row["review_status"]
            if review in ("approved", "corrected"):
                counts[f"taken_{review}"] += 1
                yield _checked(row)
            elif review == "discarded":
                counts["left_discarded"] += 1
            elif row["status"] != "passed":
                counts[f"left_{row['status']}"] += 1
            elif include == "reviewed":
                counts["left_not_reviewed"] += 1
            elif routing and route_of(
                row["id"],
                row["status"],
                row["confidence"],
                routing.policy,
                routing.low_confidence,
                routing.audit_rate,
                routing.seed,
            ):
                counts["left_pending_review"] += 1
            else:
                counts["taken_auto"] += 1
                yield _checked(row)


_TAKEN = {"taken_auto": "accepted without review", "taken_approved": "approved",
          "taken_corrected": "corrected"}  # fmt: skip
_LEFT = {"left_rejected": "rejected", "left_failed": "failed", "left_discarded": "discarded",
         "left_pending_review": "pending review", "left_not_reviewed": "not reviewed"}  # fmt: skip


def selection_sentence(selection: dict[str, int]) -> str:
    """Why each candidate was taken or left, in words."""
    taken = ", ".join(f"{n:,} {w}" for k, w in _TAKEN.items() if (n := selection.get(k)))
    left = ", ".join(f"{n:,} {w}" for k, w in _LEFT.items() if (n := selection.get(k)))
    return f"taken: {taken or 'none'}; left out: {left or 'none'}"
