"""Adequacy (``--adequacy``): a translation that drops part of the sentence is not
auto-accepted; when the check is off the report says so."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest
from conftest import run, settings_for

from parallelner.config import FilterSettings
from parallelner.filters.adequacy import AdequacyCounts
from parallelner.filters.judge import Judge
from parallelner.records import Candidate
from parallelner.report.html import gather, render
from parallelner.run.backend import make_backend
from parallelner.run.report import adequacy_line
from parallelner.run.translate import llm_access
from parallelner.translation.translate import TranslateSettings

REVIEW_BELOW = 0.9  # review push --low-confidence default


def _truncated(c: Candidate) -> Candidate | None:
    """``c`` with its translation cut after half of it (or after its last entity), if that
    drops at least a third of it."""
    last = max((s.end for s in c.tgt_entities if s), default=0)
    cut = max(last, len(c.tgt_text) // 2)
    return replace(c, tgt_text=c.tgt_text[:cut]) if cut <= len(c.tgt_text) * 2 / 3 else None


def _judge_all(ref, method: str, candidates: list[Candidate]) -> tuple[list[Candidate], dict]:
    settings = settings_for(ref)
    cfg = TranslateSettings(src_lang="", tgt_lang="", model=settings.model)

    async def main() -> list[Candidate]:
        backend = make_backend(settings, None)
        context = Judge(FilterSettings(adequacy=method), llm_access(backend, cfg))
        try:
            return [await context.judge_async(c) for c in candidates], context.figures()
        finally:
            await backend.aclose()

    return asyncio.run(main())


def test_free_checks_by_default_and_the_report_says_when_off(ref, sample_dir, tmp_path):
    run(ref, sample_dir, tmp_path / "default")
    report = json.loads((tmp_path / "default" / "report.json").read_text())
    found = report["filters"]["adequacy"]
    assert found["method"] == "checks" and found["checked"] == report["by_status"]["passed"]
    assert found["tokens_per_pair"] == 0 and found["unknown"] == 0
    # the sample's human Chinese says 103.7亿 (10.37 billion) for $103.7 million
    assert found["found"]["numbers"] >= 1 and found["low"] >= 1
    assert adequacy_line(found).startswith(f"adequacy (checks): {found['checked']} checked")
    run(ref, sample_dir, tmp_path / "off", filters={"adequacy": "off"})
    found = json.loads((tmp_path / "off" / "report.json").read_text())["filters"]["adequacy"]
    assert found["method"] == "off" and "not checked" in found["note"]
    assert adequacy_line(found).startswith("adequacy: not checked")
    assert "adequacy: not checked" in render(gather(tmp_path / "off"))


@pytest.mark.parametrize("method", ["judge", "round_trip"])
def test_a_truncated_translation_is_not_auto_accepted(ref, sample_dir, clean_ids, tmp_path, method):
    plain = run(ref, sample_dir, tmp_path / "plain")
    checked = run(ref, sample_dir, tmp_path / "checked", filters={"adequacy": method})
    clean = [checked[f"{sid}:en-zh"] for sid in clean_ids[:20]]
    # a faithful translation keeps its confidence: the check only ever lowers it
    assert all(c.confidence == plain[c.id].confidence for c in clean)
    report = json.loads((tmp_path / "checked" / "report.json").read_text())
    figures = report["filters"]["adequacy"]
    assert figures["method"] == method and figures["checked"] == report["by_status"]["passed"]
    assert figures["tokens_per_pair"] > 0
    # a flow adds its shard tasks' figures up
    twice = AdequacyCounts.summed(method, [figures, figures]).figures()
    assert twice["checked"] == 2 * figures["checked"] and twice["low"] == 2 * figures["low"]
    assert twice["tokens_per_pair"] == figures["tokens_per_pair"]

    truncated = [t for c in clean if (t := _truncated(c))]
    judged, after = _judge_all(ref, method, truncated)
    for c in judged:
        assert c.status != "passed" or c.confidence < REVIEW_BELOW, (c.id, c.confidence)
    assert after["adequacy"]["checked"] >= 3  # the rest fail the length check already
    assert after["adequacy"]["low"] + after["adequacy"]["unknown"] == after["adequacy"]["checked"]
