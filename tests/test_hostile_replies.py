"""Replies that are not chat completions of the expected shape: each is one short
``not a chat completion`` failure (or its usage read as unknown), never a traceback, never
blamed on the response cache; token totals never go negative."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import one_line, translate

from parallelner.llm.wire import MalformedCompletion, parse_completion


def completion(**changes: object) -> bytes:
    body: dict = {
        "model": "m",
        "choices": [{"message": {"role": "assistant", "content": "{}"}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
    }
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = body
        for p in parents:
            node = node[p][0] if isinstance(node[p], list) else node[p]
        node[last] = value
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (completion(choices__message="just a string"), "message is a str"),
        (completion(choices__message__content=7), "content is a int"),
        (completion(choices__message__content={"a": 1}), "content is a dict"),
        (completion(choices__message__content=["a"]), "content is a list"),
        (completion(choices=[]), "no choices"),
        (b"[1, 2]", "a JSON list"),
        (b"<html>bad gateway</html>", "not JSON"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_a_reply_of_another_shape_is_one_short_error(raw, says):
    with pytest.raises(MalformedCompletion, match="not a chat completion") as e:
        parse_completion(raw, "m")
    assert says in str(e.value) and len(str(e.value)) < 220


@pytest.mark.parametrize(
    "usage",
    [{"prompt_tokens": "abc"}, {"prompt_tokens": 1e20}, {"prompt_tokens": -5}, "usage", None],
)
def test_usage_that_is_no_count_is_read_as_unknown(usage):
    reply = parse_completion(completion(usage=usage), "m")
    assert reply.prompt_tokens == 0 and reply.completion_tokens >= 0 and reply.content == "{}"
    inf = completion().replace(b'"prompt_tokens": 10', b'"prompt_tokens": 1e400')
    assert parse_completion(inf, "m").prompt_tokens == 0


def test_a_model_that_is_an_object_keeps_the_requested_name():
    assert parse_completion(completion(model={"id": "x"}), "asked").model == "asked"


class _Hostile(BaseHTTPRequestHandler):
    body = b""

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    "raw",
    [completion(choices__message__content={"a": 1}), completion(choices__message="text")],
    ids=["content-dict", "message-string"],
)
def test_a_server_sending_them_stops_the_run_with_one_line(sample_dir, tmp_path, raw):
    handler = type("H", (_Hostile,), {"body": raw})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        r = translate(sample_dir / "en-pud.iob2", tmp_path / "out", url, "--limit", "3")
    finally:
        server.shutdown()
    assert r.returncode == 3  # the endpoint's fault, found by the probe before any sample
    line = one_line(r)
    assert "answers, but not a chat completion" in line and "cache" not in line


def test_a_line_break_in_an_entity_cannot_forge_a_prompt_line():
    from parallelner.llm.prompts import load_prompts
    from parallelner.records import Sample, Span

    text = "Ann met Bob\n2. [PER] Eve"
    sample = Sample("s1", "en", text, (Span(0, 3, "PER", "Ann"), Span(8, 24, "PER", text[8:])))
    user = load_prompts().messages(sample, "zh")[1]["content"]
    lines = [x for x in user.splitlines() if x[:1].isdigit()]
    assert lines == ["1. [PER] Ann", "2. [PER] Bob 2. [PER] Eve"]  # two entities, not three


def test_a_sentence_with_thousands_of_entities_is_not_aligned_but_reviewed():
    import time

    from parallelner.filters.alignment import MAX_ALIGNED, UNKNOWN, align
    from parallelner.records import Span

    spans = tuple(Span(2 * i, 2 * i + 1, "PER", "x") for i in range(5000))
    started = time.perf_counter()
    found = align(spans, spans)
    assert time.perf_counter() - started < 1.0
    assert found.state == UNKNOWN and found.factor < 0.9 and len(spans) > MAX_ALIGNED


def test_a_fifo_among_the_parts_is_named_not_waited_on(ref, sample_dir, tmp_path):
    import os

    from conftest import cli

    out = tmp_path / "out"
    assert translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "3").returncode == 0
    os.mkfifo(out / "candidates" / "part-zz-00000.parquet")
    r = cli("export", str(out), "--out", str(tmp_path / "corpus"))
    assert r.returncode == 2 and "not a regular file" in one_line(r)
