"""Secrets never land: a server (or a debugging proxy) that echoes the Authorization header
puts the key into no candidate, cache row, report or output; error bodies are redacted before
they are printed; credentials in a base URL are refused with one line."""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import one_line, translate

from parallelner.redact import redact, redact_error, remember
from parallelner.run.candidate_store import CandidateStore

KEY = "sk-parallelner-test-0123456789abcdef"


class _Echo(BaseHTTPRequestHandler):
    """Answers every chat request with the request's Authorization header in its content (as
    some debugging proxies do), or, with ``status``, an error body echoing it."""

    status = 200

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length") or 0))
        auth = self.headers.get("authorization", "")
        if self.status == 200:
            content = json.dumps({"translation": f"你好 {auth}", "entities": []})
            body = {"model": "m", "choices": [{"message": {"content": content}}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 4}}  # fmt: skip
        else:
            body = {"error": {"message": f"bad request; you sent Authorization: {auth}"}}
        data = json.dumps(body).encode()
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def _serve(status: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("E", (_Echo,), {"status": status}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _every_text(out) -> str:
    """Every file's bytes under ``out``, the candidates' columns and the cache's rows, as text
    (Parquet and SQLite pages may compress what a byte search would miss)."""
    texts = [p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*") if p.is_file()]
    texts += [repr(c) for c in CandidateStore(out).read()]
    with sqlite3.connect(out / "cache" / "responses.sqlite") as db:
        texts += [repr(row) for row in db.execute("SELECT * FROM replies")]
    return "\n".join(texts)


def test_an_echoed_key_is_in_no_file_and_no_output(sample_dir, tmp_path):
    server = _serve(200)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        out = tmp_path / "out"
        r = translate(sample_dir / "en-pud.iob2", out, url, "--limit", "3",
                      env={"PARALLELNER_API_KEY": KEY})  # fmt: skip
    finally:
        server.shutdown()
    assert r.returncode == 0, r.stderr
    assert KEY not in r.stdout + r.stderr
    found = _every_text(out)
    assert KEY not in found and "Bearer ***" in found  # the echo arrived, without the key


def test_an_error_body_echoing_the_key_is_printed_redacted(sample_dir, tmp_path):
    server = _serve(400)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        r = translate(sample_dir / "en-pud.iob2", tmp_path / "out", url, "--limit", "3",
                      env={"PARALLELNER_API_KEY": KEY})  # fmt: skip
    finally:
        server.shutdown()
    assert r.returncode == 3
    line = one_line(r)
    assert KEY not in line and "***" in line
    assert KEY not in "".join(p.read_text() for p in (tmp_path / "out").rglob("*.json"))


def test_credentials_in_a_base_url_are_refused_with_one_line(sample_dir, tmp_path):
    r = translate(sample_dir / "en-pud.iob2", tmp_path / "out", "http://me:hunter22@127.0.0.1:9/v1")
    assert r.returncode == 2
    line = one_line(r)
    assert "hunter22" not in line and "credentials do not go in the URL" in line


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("HTTP 401: token 'lsk-0123456789' is invalid", "HTTP 401"),  # a Label Studio error
        ("GET http://admin:pw1234@host/api?api_key=abcd1234 failed", "GET http://***@host"),
        ('{"headers": {"Authorization": "Token 0123456789abcdef"}}', "Authorization"),
    ],
)
def test_error_texts_lose_their_secrets(monkeypatch, text, kept):
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "lsk-0123456789")
    out = redact_error(text)
    assert kept in out and "0123456789" not in out and "pw1234" not in out
    assert "abcd1234" not in out


def test_reply_contents_lose_only_known_secrets():
    remember("sk-remembered-secret-value")
    said = '{"translation": "Bearer bonds, sk-remembered-secret-value", "entities": []}'
    assert redact(said) == '{"translation": "Bearer bonds, ***", "entities": []}'
