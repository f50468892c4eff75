"""Structured output that fits the server (--structured-output), and endpoints that are down,
mistyped or silent stopping the run at its start with one line."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
from conftest import one_line, settings_for, translate

from parallelner.llm.backend import LLMCallFailed
from parallelner.llm.client import ChatClient
from parallelner.llm.prompts import load_prompts
from parallelner.llm.reply import MalformedReply, parse_reply
from parallelner.llm.structured import with_mode
from parallelner.llm.wire import FrozenParams, request_key_of
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.jobs import translate_job

LLAMA_CPP_PYTHON = ["json_object", "text"]  # the response_format types it takes


def _run(ref, sample_dir, out, **overrides) -> dict:
    translate_job([sample_dir / "en-pud.iob2"], out, "en", "zh", settings_for(ref, **overrides))
    return json.loads((out / "report.json").read_text())


@pytest.mark.parametrize(
    ("formats", "used", "refused"),
    [
        (None, "json_schema", []),
        (LLAMA_CPP_PYTHON, "json_object", ["json_schema"]),
        (["text"], "prompt", ["json_schema", "json_object"]),
    ],
)
def test_auto_steps_down_to_the_mode_the_server_takes(
    ref, sample_dir, tmp_path, formats, used, refused
):
    ref.admin("faults", {"formats": formats})
    report = _run(ref, sample_dir, tmp_path / "out")
    found = report["structured_output"]
    assert found["requested"] == "auto" and found["used"] == used
    assert list(found["endpoints"][0]["refused"]) == refused  # in the order tried
    assert report["by_status"]["failed"] == 0 and report["by_status"]["passed"] > 0
    stats = ref.admin("stats")
    assert stats["probes"] == 1 + len(refused)  # one per mode tried, none of them retried
    assert report["run"]["retries"] == 0
    asked = stats["by_schema"].get("entity_span", 0)  # recovery's span questions
    assert stats["requests"] == report["attempts"]["total"] + asked


def test_a_refused_mode_asked_for_stops_at_once_naming_auto(ref, sample_dir, tmp_path):
    ref.admin("faults", {"formats": LLAMA_CPP_PYTHON})
    start = time.monotonic()
    r = translate(sample_dir / "en-pud.iob2", tmp_path / "out", ref.base_url,
                  "--structured-output", "json_schema")  # fmt: skip
    assert time.monotonic() - start < 20
    assert r.returncode == 3
    line = one_line(r)
    assert "refused every structured-output mode tried (json_schema: HTTP 500" in line
    assert line.endswith("try --structured-output auto")
    assert ref.admin("stats")["requests"] == 0


def test_the_mode_is_in_the_cache_key_so_a_reply_is_never_served_across_modes():
    params = load_prompts().response_format
    base = {"temperature": 0.0, "max_tokens": 2048, "response_format": params}
    keys = {
        mode: request_key_of("m", "v", "[]", FrozenParams.of(with_mode(base, mode)))
        for mode in ("json_schema", "json_object", "prompt")
    }
    assert len(set(keys.values())) == 3
    assert "response_format" not in with_mode(base, "prompt")
    assert with_mode(base, "json_object")["response_format"] == {
        "type": "json_object",
        "schema": params["json_schema"]["schema"],
    }


def test_a_request_validation_error_is_never_retried(ref):
    """A 500 whose body is a request validation error (llama-cpp-python's answer to
    json_schema) fails the call at once: six retries would only repeat it."""
    ref.admin("faults", {"formats": LLAMA_CPP_PYTHON})
    client = ChatClient([ref.base_url], max_retries=6, structured_output="json_schema")
    params = {"max_tokens": 10, "response_format": load_prompts().response_format}

    async def call() -> None:
        try:
            await client.complete("reference", [{"role": "user", "content": "x"}],
                                  prompt_version="v", params=params)  # fmt: skip
        finally:
            await client.aclose()

    with pytest.raises(LLMCallFailed, match="InternalServerError"):
        asyncio.run(call())
    assert client.stats.requests == 1 and client.stats.retries == 0


def test_replies_wrapped_in_words_or_a_fence_are_read():
    body = '{"translation": "约翰访问了北京。", "entities": [{"id": 1, "text": "北京"}]}'
    for content in (
        body,
        f"```json\n{body}\n```",
        f"Here is the translation:\n```json\n{body}\n```\nHope it helps!",
        f"Sure! {body}",
    ):
        assert parse_reply(content, 1).surfaces == ("北京",)
    with pytest.raises(MalformedReply, match="not valid JSON"):
        parse_reply("Sorry, I cannot do that {not json}", 1)


def test_a_translation_that_runs_over_into_the_reply_syntax_is_cut_where_it_ended():
    # Qwen2.5-Coder-1.5B under llama-cpp-python's json_object grammar, UNER PUD n01002032:
    # the string is "closed" with a curly quote and "}", then a fenced copy begins in it,
    # with raw newlines (not valid strict JSON)
    raw = (
        '{"entities":[{"id":1,"text":"University of North Carolina"}],"translation":"所以我'
        "不希望对你施加一点压力，但共和国的命运取决于你的肩膀。”他告诉聚集在北卡罗来纳大学体育场上的"
        '人们。}\n```json\n{\n  " }'
    )
    reply = parse_reply(raw, 1)
    assert reply.translation.endswith("北卡罗来纳大学体育场上的人们。")
    assert reply.surfaces == ("University of North Carolina",)


def test_prompt_mode_output_is_the_same_corpus(ref, sample_dir, tmp_path):
    schema = _run(ref, sample_dir, tmp_path / "schema")
    ref.admin("reset")
    prompt = _run(ref, sample_dir, tmp_path / "prompt", structured_output="prompt")
    assert prompt["structured_output"]["used"] == "prompt"
    assert prompt["by_status"] == schema["by_status"]
    a = {c.id: c.tgt_entities for c in CandidateStore(tmp_path / "schema").read()}
    b = {c.id: c.tgt_entities for c in CandidateStore(tmp_path / "prompt").read()}
    assert a == b


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"http://127.0.0.1:{_free_port()}/v1", "cannot reach"),  # nothing listening
        ("http://no-such-host.invalid:8000/v1", "cannot reach"),  # a mistyped host (DNS)
    ],
)
def test_a_down_or_mistyped_endpoint_stops_within_seconds(sample_dir, tmp_path, url, says):
    start = time.monotonic()
    r = translate(sample_dir / "en-pud.iob2", tmp_path / "out", url)
    took = time.monotonic() - start
    assert r.returncode == 3 and took < 15, (took, r.stderr)
    line = one_line(r)
    assert line.startswith(f"error: {says} {url}") and "--base-url" in line


def test_a_server_that_accepts_and_never_answers_stops_after_the_timeout(sample_dir, tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # the kernel accepts connections; nobody ever reads or answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
    try:
        start = time.monotonic()
        r = translate(sample_dir / "en-pud.iob2", tmp_path / "out", url, "--timeout", "3",
                      "--limit", "5")  # fmt: skip
        took = time.monotonic() - start
    finally:
        silent.close()
    assert r.returncode == 3 and took < 15, (took, r.stderr)
    line = one_line(r)
    assert line == (
        f"error: {url} accepted the connection but did not answer within --timeout 3 s: "
        "check the server (still loading a model? stuck?), or raise --timeout"
    )
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["stopped"].startswith("EndpointError") and report["total"] == 0
