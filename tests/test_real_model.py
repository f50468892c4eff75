"""What only a real model can tell: a few PUD sentences each way through Qwen2.5-Coder-1.5B
behind llama-cpp-python's server (``make test-real-model`` starts it), with
``--structured-output auto``. Nothing may fail, every passed span must be exact, and every
rejection must say why; the model's own mistakes are its own (see benchmarks/real_model.py)."""

from __future__ import annotations

import asyncio
import json
import os

import pytest
from conftest import cli

from parallelner.config import load_settings
from parallelner.filters.adequacy import Adequacy, check_adequacy, factor
from parallelner.reasons import REASONS
from parallelner.records import PROJECTION_METHODS, Candidate
from parallelner.run.backend import make_backend, resolve_structured_output
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.translate import llm_access
from parallelner.translation.translate import TranslateSettings

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


# The inverted translations the model gave in the issue that asked for adequacy (issue 25),
# each with a faithful one: (source, inverted, faithful).
INVERTED = [
    ("Not everyone can rise above it.", "没有人能超过它。", "并不是每个人都能超越它。"),
    ("her two-year-old daughter", "她的两个年幼的女儿", "她两岁的女儿"),
]


def test_round_trip_sends_an_inverted_translation_to_review(real_model_url):
    """``--adequacy round_trip`` with the real model: the inverted translation's back-translation
    ("No one can exceed it.", "Her two young daughters") scores under 0.5 chrF and goes to
    review; the faithful one scores higher."""
    settings = load_settings(
        overrides={"base_urls": [real_model_url], "model": MODEL, "cache": "off",
                   "structured_output": "auto"},
        env={},
    )  # fmt: skip
    settings, _ = resolve_structured_output(settings)
    cfg = TranslateSettings(src_lang="", tgt_lang="", model=MODEL)

    async def scores() -> list[tuple[Adequacy, Adequacy]]:
        backend = make_backend(settings, None)
        try:
            found = []
            for i, (source, inverted, faithful) in enumerate(INVERTED):
                pair = []
                for text in (inverted, faithful):
                    c = Candidate(f"i{i}:en-zh", f"i{i}", "en", "zh", source, text, (), (),
                                  "passed", confidence=1.0)  # fmt: skip
                    pair.append(await check_adequacy(c, "round_trip", llm_access(backend, cfg)))
                found.append((pair[0], pair[1]))
            return found
        finally:
            await backend.aclose()

    for (source, *_), (inverted, faithful) in zip(INVERTED, asyncio.run(scores()), strict=True):
        assert inverted.score is not None and faithful.score is not None, source
        assert factor(inverted, "round_trip") < 0.9, (source, inverted.score, inverted.back)
        assert faithful.score > inverted.score, (source, faithful.score, inverted.score)
        assert inverted.prompt_tokens > 0  # its cost is counted
