"""Consistency filters, driven by the reference endpoint's fault injection on the PUD sample."""

from __future__ import annotations

import json

import pytest
from conftest import run, settings_for

from parallelner.config import FilterSettings
from parallelner.filters.judge import Judge
from parallelner.reasons import REASONS
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.jobs import filter_job

CONTENT_FAULTS = {
    "truncated_json": "malformed_reply",
    "bad_json": "malformed_reply",
    "untranslated": "untranslated",
    "wrong_language": "wrong_language",
    "missing_entity": "entity_missing",
    "entity_not_in_translation": "entity_not_found",
    "empty": "empty",
}
#: Faults in the reply's entity list that recovery's span question repairs (to review).
RECOVERED = {"missing_entity", "entity_not_in_translation"}


@pytest.mark.parametrize(("src", "tgt"), [("en", "zh"), ("zh", "en")])
def test_every_injected_fault_ends_with_the_right_outcome(
    ref, sample_dir, clean_ids, tmp_path, src, tgt
):
    kinds = list(CONTENT_FAULTS) + ["http_429", "http_500"]
    faults = {f"pud-{sid}": {"kind": kind} for sid, kind in zip(clean_ids, kinds, strict=False)}
    for key, kind in zip(faults, kinds, strict=False):
        if kind.startswith("http"):
            faults[key].update(times=2, retry_after=0.1)
    ref.admin("faults", {"faults": faults})
    got = run(ref, sample_dir, tmp_path, src, tgt)
    assert len(got) == 100  # nothing lost
    for sid, kind in zip(clean_ids, kinds, strict=False):
        c = got[f"{sid}:{src}-{tgt}"]
        if kind in RECOVERED:
            assert c.status == "passed" and "asked" in c.projection, (kind, c.reasons)
            assert c.confidence < 0.9  # an asked span always goes to review
        elif kind in CONTENT_FAULTS:
            assert c.status == "rejected", (kind, c.reasons)
            assert CONTENT_FAULTS[kind] in c.reasons, (kind, c.reasons)
            assert c.raw_reply  # the reply is kept to see what went wrong
        else:
            assert c.status == "passed", (kind, c.reasons)
    clean = [got[f"{sid}:{src}-{tgt}"] for sid in clean_ids[len(kinds) :]]
    assert clean and all(c.status == "passed" for c in clean)
    assert all(0 < c.confidence <= 1 for c in clean)


def test_reasons_are_all_kept_and_documented(ref, sample_dir, clean_ids, tmp_path):
    ref.admin("faults", {"faults": {f"pud-{clean_ids[0]}": "untranslated"}})
    c = run(ref, sample_dir, tmp_path)[f"{clean_ids[0]}:en-zh"]
    # A copy of the English sentence is both untranslated and not Chinese: both are kept.
    assert {"untranslated", "wrong_language"} <= set(c.reasons)
    assert set(c.reasons) <= set(REASONS)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["by_pair"]["en-zh"]["by_reason"]["untranslated"] == 1


def test_filter_reruns_with_new_thresholds_without_calling_the_llm(ref, sample_dir, tmp_path):
    run(ref, sample_dir, tmp_path)
    before = json.loads((tmp_path / "report.json").read_text())
    sent = ref.admin("stats")["requests"]
    strict = settings_for(ref, filters={"max_length_ratio": 0.3})
    report = filter_job(tmp_path, strict)
    assert ref.admin("stats")["requests"] == sent
    assert report["by_reason"].get("length_ratio", 0) > before["by_reason"].get("length_ratio", 0)
    assert report["total"] == before["total"] == 100
    # Back to the defaults: the same verdicts as the translate run.
    again = filter_job(tmp_path, settings_for(ref))
    assert again["by_status"] == before["by_status"]
    ids = CandidateStore(tmp_path).table(["id"]).column("id").to_pylist()
    assert len(set(ids)) == 100


def test_script_check_saves_most_langdetect_calls(ref, sample_dir, tmp_path):
    run(ref, sample_dir, tmp_path, "zh", "en")
    figures = json.loads((tmp_path / "report.json").read_text())["filters"]
    assert figures["language_checks"] == 100
    assert figures["langdetect_saved"] >= 80


def test_traditional_chinese_is_chinese_for_langdetect(sample_dir, tmp_path, ref):
    got = run(ref, sample_dir, tmp_path)
    assert not any("wrong_language" in c.reasons for c in got.values())


def test_round_trip_checks_entities_come_back(ref, sample_dir, clean_ids, tmp_path):
    got = run(ref, sample_dir, tmp_path, filters={"round_trip": True})
    for sid in clean_ids[:10]:
        assert got[f"{sid}:en-zh"].status == "passed"
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["filters"]["round_trips"] >= 80


def test_filters_are_pure_over_a_candidate(ref, sample_dir, tmp_path):
    got = run(ref, sample_dir, tmp_path)
    context = Judge(FilterSettings())
    for c in list(got.values())[:20]:
        assert context.judge(c) == c


def test_without_recovery_a_wrong_entity_list_is_rejected_with_its_reason(
    ref, sample_dir, clean_ids, tmp_path
):
    kinds = sorted(RECOVERED)
    faults = {f"pud-{sid}": kind for sid, kind in zip(clean_ids, kinds, strict=False)}
    ref.admin("faults", {"faults": faults})
    got = run(ref, sample_dir, tmp_path, recover=False)
    for sid, kind in zip(clean_ids, kinds, strict=False):
        c = got[f"{sid}:en-zh"]
        assert c.status == "rejected" and CONTENT_FAULTS[kind] in c.reasons, (kind, c.reasons)
