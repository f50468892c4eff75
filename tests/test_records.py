from __future__ import annotations

import pytest

from parallelner.records import Candidate, RecordError, Sample, Span


def test_sample_sorts_entities_and_checks_their_text():
    s = Sample(
        "s1",
        "en",
        "John Smith visited Beijing.",
        (Span(19, 26, "LOC", "Beijing"), Span(0, 10, "PER", "John Smith")),
    )
    assert [e.label for e in s.entities] == ["PER", "LOC"]
    with pytest.raises(RecordError, match="'Beijing' in the text but 'Peking'"):
        Sample("s1", "en", "John Smith visited Beijing.", (Span(19, 26, "LOC", "Peking"),))


def test_span_past_the_end_is_refused_naming_the_sample():
    with pytest.raises(RecordError, match="sample s2: entity 0 .* outside the text of length 5"):
        Sample("s2", "en", "Hello", (Span(3, 9, "PER", "lo"),))


def test_overlapping_spans_are_refused():
    with pytest.raises(RecordError, match="overlap"):
        Sample(
            "s3",
            "en",
            "New York City",
            (Span(0, 8, "LOC", "New York"), Span(4, 13, "LOC", "York City")),
        )


def test_cjk_and_emoji_offsets_are_code_points():
    text = "🎉约翰在北京"
    s = Sample("s4", "zh", text, (Span(4, 6, "LOC", "北京"),))
    assert text[s.entities[0].start : s.entities[0].end] == "北京"


def test_candidate_status_must_agree_with_reasons():
    span = Span(0, 4, "PER", "John")
    with pytest.raises(RecordError, match="status 'passed' with reasons"):
        Candidate(
            "s:en-zh",
            "s",
            "en",
            "zh",
            "John",
            "约翰",
            (span,),
            (Span(0, 2, "PER", "约翰"),),
            status="passed",
            reasons=("entity_missing",),
        )
