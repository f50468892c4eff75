"""Label faithfulness: each projected entity must translate its own source entity.

Signals on real UNER PUD pairs (no server), then swaps injected by the reference endpoint and
the verification round through it, and the export's token boundaries on real sentences.
"""

from __future__ import annotations

import json

import pytest
from conftest import run, settings_for

from parallelner.config import FilterSettings
from parallelner.export.tokens import tokenize, tokens_and_tags
from parallelner.filters.alignment import (
    CONFIRMED,
    MISALIGNED,
    STRONG,
    SUSPECT,
    UNKNOWN,
    align,
    evidence,
)
from parallelner.records import Span
from parallelner.reference.references import ReferenceIndex
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.jobs import filter_job
from parallelner.text.assignment import best_assignment
from parallelner.text.transliteration import romanize, sound_similarity


def _spans(side: dict) -> tuple[Span, ...]:
    entities = sorted(side["entities"], key=lambda e: e["start"])
    return tuple(
        Span(e["start"], e["end"], e["label"], side["text"][e["start"] : e["end"]])
        for e in entities
    )


@pytest.fixture(scope="module")
def pud(shared_data) -> dict[str, dict]:
    with (shared_data / "uner-pud-en-zh" / "pairs.jsonl").open(encoding="utf-8") as fh:
        return {p["id"].removeprefix("pud-"): p for p in map(json.loads, fh)}


@pytest.fixture(scope="module")
def pud_de(shared_data) -> dict[str, dict]:
    with (shared_data / "uner-pud-multi" / "pairs-en-de.jsonl").open(encoding="utf-8") as fh:
        return {p["id"].removeprefix("pud-"): p for p in map(json.loads, fh)}


def _swapped(src: tuple[Span, ...], tgt: tuple[Span, ...], i: int = 0, j: int = 1):
    """The target spans with the surface forms of entities i and j exchanged (labels follow
    the source, as a misnumbered reply gives them)."""
    out = list(tgt)
    out[i] = Span(tgt[j].start, tgt[j].end, src[i].label, tgt[j].text)
    out[j] = Span(tgt[i].start, tgt[i].end, src[j].label, tgt[i].text)
    return tuple(out)


def test_best_assignment_finds_the_optimal_pairing():
    assert best_assignment([[0.1, 0.9, 0.0], [0.8, 0.2, 0.0], [0.0, 0.0, 0.5]]) == [1, 0, 2]
    assert best_assignment([[0.2, 0.9]]) == [1]
    assert best_assignment([]) == []


def test_transliterated_names_sound_alike_across_scripts(pud):
    # n01001011: Obama / 奧巴馬 "AoBaMa", Kori Schulman / 科瑞·舒爾曼 "KeRui ShuErMan".
    assert romanize("奧巴馬") == "aobama"
    assert sound_similarity("Obama", "奧巴馬") >= 0.6
    assert sound_similarity("Kori Schulman", "科瑞·舒爾曼") >= 0.6
    assert sound_similarity("Obama", "美國") < STRONG  # a translated name: no evidence
    assert sound_similarity("Krasnoyarsk", "Красноярск") == pytest.approx(14 / 15)


def test_names_kept_as_written_and_numbers_are_exact_evidence(pud_de):
    en, de = (_spans(pud_de["n01001-0001"][k]) for k in ("en", "de"))
    assert evidence(en[2], de[2]) == 1.0  # Kori Schulman, written the same in German
    billboard = Span(0, 13, "ORG", "Billboard 200")
    assert evidence(billboard, Span(0, 13, "ORG", "Billboard 200")) == 1.0
    assert evidence(billboard, Span(0, 8, "ORG", "Series 1")) == 0.0  # other numbers


def test_a_middle_dot_name_is_weak_evidence_for_a_non_person(pud):
    en, zh = (_spans(pud["n01005024"][k]) for k in ("en", "zh"))  # Joe Sternlieb / 喬·斯頓雷
    person = next(t for t in zh if t.text == "喬·斯頓雷")
    as_org = Span(0, 14, "ORG", "Georgetown BID")
    assert evidence(as_org, person) < evidence(Span(0, 14, "PER", "Georgetown BID"), person)


def test_correct_pairing_of_transliterated_names_is_confirmed(pud):
    en, zh = (_spans(pud["n01001011"][k]) for k in ("en", "zh"))
    finding = align(en, zh)
    assert finding.state == CONFIRMED and finding.factor == 1.0 and finding.reason is None


def test_swap_of_transliterated_names_is_rejected(pud):
    # n01039013: "Clinton" and "Trump" (克林頓, 特朗普): a same-label swap, caught by sound.
    en, zh = (_spans(pud["n01039013"][k]) for k in ("en", "zh"))
    assert align(en, zh).state == CONFIRMED
    swapped = align(en, _swapped(en, zh))
    assert swapped.state == MISALIGNED and swapped.reason == "entity_misaligned"
    assert swapped.best[:2] == (1, 0)  # it knows where each name belongs


def test_swap_of_a_person_and_a_place_is_rejected(pud):
    en, zh = (_spans(pud["n01035013"][k]) for k in ("en", "zh"))  # B.C. (LOC), Klein (PER)
    assert align(en, _swapped(en, zh)).state == MISALIGNED


def test_swap_of_translated_names_is_not_rejected_but_sent_to_review(pud):
    # n01020021: China / 中國 and Beijing / 北京, of different labels: nothing proves which is
    # which, so the pair is not certified: its confidence drops below the review threshold.
    en, zh = (_spans(pud["n01020021"][k]) for k in ("en", "zh"))
    finding = align(en, _swapped(en, zh))
    assert finding.state in (UNKNOWN, SUSPECT) and finding.reason is None
    assert finding.factor < 0.9


def test_entities_reordered_by_the_human_translation_are_caught(pud_de):
    # w01135-0005: the German lists Rian Johnson last; paired in order, two names are wrong.
    en, de = (_spans(pud_de["w01135-0005"][k]) for k in ("en", "de"))
    assert [s.text for s in en] != [s.text for s in de]
    assert align(en, de).state == MISALIGNED
    by_name = tuple(sorted(de, key=lambda s: [x.text for x in en].index(s.text)))
    assert align(en, by_name).state == CONFIRMED


def test_reference_endpoint_pairs_entities_by_label_not_by_order(shared_data):
    # n01005024: "Joe Sternlieb ... Georgetown BID" is "喬治城商業改善會 ... 喬·斯頓雷" in Chinese.
    index = ReferenceIndex(shared_data / "uner-pud-en-zh" / "pairs.jsonl")
    answer = index.by_id["pud-n01005024"]["en"].answer()
    assert answer["entities"] == [
        {"id": 1, "text": "喬·斯頓雷"},
        {"id": 2, "text": "喬治城商業改善會"},
    ]


@pytest.mark.parametrize(("src", "tgt"), [("en", "zh"), ("zh", "en")])
def test_swapped_entities_never_leave_with_high_confidence(
    ref, sample_dir, pairs, tmp_path, src, tgt
):
    by_id = {p["id"].removeprefix("pud-"): p for p in pairs}
    mixed = [
        sid
        for sid, p in by_id.items()
        if p["consistent"] and len({e["label"] for e in p[src]["entities"][:2]}) == 2
    ]
    ref.admin("faults", {"faults": {f"pud-{sid}": "swap_entities" for sid in mixed}})
    got = run(ref, sample_dir, tmp_path, src, tgt)
    assert len(mixed) >= 4
    for sid in mixed:
        c = got[f"{sid}:{src}-{tgt}"]
        assert c.status == "rejected" or c.confidence < 0.9, (sid, c.reasons, c.confidence)
    rejected = [sid for sid in mixed if got[f"{sid}:{src}-{tgt}"].status == "rejected"]
    assert rejected and all(
        "entity_misaligned" in got[f"{sid}:{src}-{tgt}"].reasons for sid in rejected
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["by_pair"][f"{src}-{tgt}"]["by_reason"]["entity_misaligned"] == len(rejected)
    assert report["filters"]["alignment"]["misaligned"] >= len(rejected)


def test_verification_round_catches_swaps_the_signals_cannot_see(ref, sample_dir, tmp_path):
    # China/Beijing and BA/IAG (translated names): the signals leave the pairing unknown.
    swapped = ["n01020021", "n01017008"]
    ref.admin("faults", {"faults": {f"pud-{sid}": "swap_entities" for sid in swapped}})
    before = run(ref, sample_dir, tmp_path)
    assert all(before[f"{sid}:en-zh"].status == "passed" for sid in swapped)
    calls_before = ref.admin("stats")["requests"]

    settings = settings_for(ref)
    settings = settings.__class__(**{**settings.__dict__, "filters": FilterSettings(verify=True)})
    report = filter_job(tmp_path, settings)
    after = {c.id: c for c in CandidateStore(tmp_path).read()}
    for sid in swapped:
        assert after[f"{sid}:en-zh"].reasons == ("entity_misaligned",)
    verify = report["filters"]["verify"]
    multi = [c for c in before.values() if c.status == "passed" and len(c.src_entities) >= 2]
    assert verify["calls"] == len(multi) == ref.admin("stats")["requests"] - calls_before
    # a span recovered for an entity the human translation has no counterpart of: the
    # round cannot place it either (unknown), so it keeps its lower confidence
    recovered = [c for c in multi if set(c.projection) - {"model", "normalised"}]
    assert verify["disagree"] == 2 and verify["agree"] == len(multi) - 2 - len(recovered)
    assert verify["unknown"] == len(recovered)
    assert verify["prompt_tokens"] > 0 and verify["completion_tokens"] > 0
    # Where the round agrees, the pairing is checked: no alignment cut is left on it.
    for c in multi:
        if c.source_id not in swapped:
            assert after[c.id].confidence >= before[c.id].confidence

    again = filter_job(tmp_path, settings)  # a rerun pays nothing: the cache answers
    assert again["filters"]["verify"]["calls"] == len(multi)
    assert ref.admin("stats")["requests"] - calls_before == len(multi)


@pytest.mark.parametrize("sid", ["w01140030", "w01140031"])
def test_export_tokens_split_at_every_entity_boundary(pud, sid):
    # "Irène Joliot-Curie" holds two entities (Irène Joliot, Curie); "Rona's" one (Rona).
    en = pud[sid]["en"]
    spans = [(e["start"], e["end"], e["label"]) for e in en["entities"]]
    tokens, tags = tokens_and_tags(en["text"], spans)
    assert sum(t.startswith("B-") for t in tags) == len(spans)
    offsets = tokenize(en["text"], frozenset(x for a, b, _ in spans for x in (a, b)))
    assert [en["text"][a:b] for a, b in offsets] == tokens
    for start, end, label in spans:  # each entity is exactly a run of tokens
        first = next(k for k, (a, _) in enumerate(offsets) if a == start)
        last = next(k for k, (_, b) in enumerate(offsets) if b == end)
        assert tags[first] == f"B-{label}"
        assert all(tags[k] == f"I-{label}" for k in range(first + 1, last + 1))
    assert "Curie" in tokens and "Joliot" in tokens and "Joliot-Curie" not in tokens
    if sid == "w01140031":
        assert tokens[tokens.index("Rona") + 1] == "'s"
        assert tags[tokens.index("Rona")] == "B-PER" and tags[tokens.index("'s")] == "O"
