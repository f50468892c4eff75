"""translate + project against the real reference endpoint over HTTP with the openai client."""

from __future__ import annotations

import json
import socket

import pytest
from conftest import run, settings_for

from parallelner.reference.server import listening_socket
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.jobs import translate_job


def test_every_input_id_appears_exactly_once_per_direction(ref, sample_dir, pairs, tmp_path):
    for src, tgt in (("en", "zh"), ("zh", "en")):
        got = run(ref, sample_dir, tmp_path / f"{src}{tgt}", src, tgt)
        ids = [f"{p['id'].removeprefix('pud-')}:{src}-{tgt}" for p in pairs]
        assert sorted(got) == sorted(ids)
        rows = CandidateStore(tmp_path / f"{src}{tgt}").table(["id"]).column("id").to_pylist()
        assert len(rows) == len(set(rows)) == 100


def test_clean_references_pass_with_projected_spans(ref, sample_dir, clean_ids, tmp_path):
    got = run(ref, sample_dir, tmp_path)
    for sid in clean_ids:
        c = got[f"{sid}:en-zh"]
        assert c.status == "passed", (sid, c.reasons)
        assert c.attempts == 1 and c.prompt_version == "joint-v1" and c.model == "reference"
        for src, tgt in zip(c.src_entities, c.tgt_entities, strict=True):
            assert tgt is not None and tgt.label == src.label
            assert c.tgt_text[tgt.start : tgt.end] == tgt.text


@pytest.mark.parametrize("kind", ["http_429", "http_500"])
def test_transient_errors_are_retried_and_the_sample_passes(
    ref, sample_dir, clean_ids, tmp_path, kind
):
    sid = clean_ids[0]
    ref.admin("faults", {"faults": {f"pud-{sid}": {"kind": kind, "times": 2, "retry_after": 0.1}}})
    got = run(ref, sample_dir, tmp_path)
    c = got[f"{sid}:en-zh"]
    assert c.status == "passed" and c.attempts == 1
    assert ref.admin("stats")["by_pair"][f"pud-{sid}"] == 3  # two refused, the third answered
    report = (tmp_path / "report.json").read_text()
    assert '"retries": 2' in report


def test_a_request_that_times_out_is_retried(ref, sample_dir, clean_ids, tmp_path):
    sid = clean_ids[1]
    ref.admin("faults", {"faults": {f"pud-{sid}": {"kind": "timeout", "times": 1, "delay": 5}}})
    got = run(ref, sample_dir, tmp_path, timeout=1.0)
    assert got[f"{sid}:en-zh"].status == "passed"


def test_a_persistent_server_error_fails_the_sample_only(ref, sample_dir, clean_ids, tmp_path):
    sid = clean_ids[2]
    ref.admin("faults", {"faults": {f"pud-{sid}": "http_500"}})
    got = run(ref, sample_dir, tmp_path, max_retries=2)
    c = got[f"{sid}:en-zh"]
    assert c.status == "failed" and c.reasons == ("llm_error",)
    assert ref.admin("stats")["by_pair"][f"pud-{sid}"] == 3  # the first call and 2 retries
    assert sum(x.status == "failed" for x in got.values()) == 1 and len(got) == 100


def test_the_reference_endpoint_turns_nagle_off():
    """Its connections reply without waiting for the client's delayed ACK (40 ms a request,
    which every benchmark figure paid): asyncio sets TCP_NODELAY only when the socket's
    protocol says TCP."""
    sock = listening_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP and sock.getsockname()[1] > 0
    finally:
        sock.close()


def test_repair_turns_a_missing_entity_into_a_passed_sample(ref, sample_dir, clean_ids, tmp_path):
    sid = clean_ids[3]
    ref.admin("faults", {"faults": {f"pud-{sid}": "missing_entity:1"}})
    c = run(ref, sample_dir, tmp_path, recover=False)[f"{sid}:en-zh"]
    assert c.status == "passed" and c.attempts == 2
    assert all(t is not None for t in c.tgt_entities)
    assert set(c.projection) == {"model"}


def test_a_missing_entity_is_asked_for_in_the_conversation_and_sent_to_review(
    ref, sample_dir, clean_ids, pairs, tmp_path
):
    """The reply leaves an entity out of its list every time: one span question finds it
    (the reference answers from the human translation), no repair round is paid, and the
    pair's confidence says a span was asked for, so it goes to review."""
    sid = clean_ids[3]
    ref.admin("faults", {"faults": {f"pud-{sid}": "missing_entity"}})
    got = run(ref, sample_dir, tmp_path)
    c = got[f"{sid}:en-zh"]
    assert c.status == "passed" and c.attempts == 1
    assert "asked" in c.projection and c.confidence < 0.9
    pair = next(p for p in pairs if p["id"] == f"pud-{sid}")
    gold = sorted(e["text"] for e in pair["zh"]["entities"])
    assert sorted(t.text for t in c.tgt_entities) == gold


def test_escalation_gets_its_own_rounds_after_the_first_model_gives_up(
    ref, sample_dir, clean_ids, tmp_path
):
    sid = clean_ids[4]
    ref.admin("faults", {"faults": {f"pud-{sid}": "entity_not_in_translation:3"}})
    got = run(ref, sample_dir, tmp_path, escalate_model="reference-large", recover=False)
    c = got[f"{sid}:en-zh"]
    assert c.status == "passed" and c.attempts == 4 and c.model == "reference-large"


def test_second_run_sends_zero_requests(ref, sample_dir, tmp_path):
    first = run(ref, sample_dir, tmp_path / "a")
    sent = ref.admin("stats")["requests"]
    assert sent >= 100
    # A new output folder, the same cache: every call is answered from the cache.
    second = run(
        ref, sample_dir, tmp_path / "b", cache=str(tmp_path / "a" / "cache" / "responses.sqlite")
    )
    assert ref.admin("stats")["requests"] == sent
    assert {k: (c.status, c.tgt_text) for k, c in first.items()} == {
        k: (c.status, c.tgt_text) for k, c in second.items()
    }


def test_a_rerun_into_the_same_folder_resumes_without_duplicates(ref, sample_dir, tmp_path):
    settings = settings_for(ref, rows_per_part=10)
    translate_job([sample_dir / "en-pud.iob2"], tmp_path, "en", "zh", settings, limit=35)
    assert len(CandidateStore(tmp_path).parts()) == 4
    sent = ref.admin("stats")["requests"]
    report = translate_job([sample_dir / "en-pud.iob2"], tmp_path, "en", "zh", settings)
    ids = CandidateStore(tmp_path).table(["id"]).column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 100 == report["total"]
    assert report["run"]["already_done"] == 35 and report["run"]["translated"] == 65
    assert ref.admin("stats")["requests"] > sent


def test_a_dead_replica_in_the_pool_is_passed_over(ref, sample_dir, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    got = run(ref, sample_dir, tmp_path, base_urls=[dead, ref.base_url])
    assert len(got) == 100 and not any(c.status == "failed" for c in got.values())
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["errors"].get("APIConnectionError", 0) >= 1
