"""What only a real model can tell: a few PUD sentences each way through Qwen2.5-Coder-1.5B
behind llama-cpp-python's server (``make test-real-model`` starts it), with
``--structured-output auto``. Nothing may fail, every passed span must be exact, and every
rejection must say why; the model's own mistakes are its own (see benchmarks/real_model.py)."""

from __future__ import annotations

import json
import os

import pytest
from test_cli import cli

from parallelner.candidate_store import CandidateStore
from parallelner.filters import REASONS
from parallelner.records import PROJECTION_METHODS

pytestmark = pytest.mark.real_model
MODEL = "qwen2.5-coder-1.5b-instruct"
SENTENCES = 4  # each way: about 10 s a sentence on 2 cores


@pytest.fixture(scope="module")
def real_model_url() -> str:
    url = os.environ.get("PARALLELNER_REAL_MODEL_URL")
    if not url:
        pytest.skip("no real model: `make test-real-model` starts one and runs these")
    return url


@pytest.mark.parametrize(("src", "tgt"), [("en", "zh"), ("zh", "en")])
def test_a_real_model_fails_nothing_and_every_passed_span_is_exact(
    real_model_url, sample_dir, tmp_path, src, tgt
):
    out = tmp_path / "out"
    r = cli(
        "translate", str(sample_dir / f"{src}-pud.iob2"), "--src-lang", src, "--tgt-lang", tgt,
        "--out", str(out), "--base-url", real_model_url, "--model", MODEL,
        "--structured-output", "auto", "--concurrency", "1", "--limit", str(SENTENCES),
        "--no-progress",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["by_status"]["failed"] == 0 and report["total"] == SENTENCES
    # llama-cpp-python refuses json_schema (HTTP 500) and takes json_object with the schema
    found = report["structured_output"]
    assert found["used"] == "json_object" and "json_schema" in found["endpoints"][0]["refused"]
    assert report["run"]["retries"] == 0
    for c in CandidateStore(out).read():
        if c.status == "passed":
            assert [t.label for t in c.tgt_entities] == [s.label for s in c.src_entities]
            for t in c.tgt_entities:
                assert c.tgt_text[t.start : t.end] == t.text
            assert all(m in PROJECTION_METHODS for m in c.projection)
            assert 0 < c.confidence <= 1
        else:
            assert c.reasons and set(c.reasons) <= set(REASONS), c.reasons
            assert c.raw_reply  # what the model said is kept for review
