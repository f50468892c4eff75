"""The command line: one clear line for a user's mistake, never a traceback, never a secret."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import translate

from parallelner.reference.process import ReferenceServer


def test_bad_input_prints_path_line_and_exits_2(tmp_path, ref):
    f = tmp_path / "bad.iob2"
    f.write_text("1\tJohn\tO\n2\tSmith\tI-PER\n\n", "utf-8")
    r = translate(f, tmp_path / "out", ref.base_url)
    assert r.returncode == 2
    assert r.stderr.strip() == (
        f"{f}:2: I-PER starts an entity (after O): an IOB1 file? rerun with --lenient-tags"
    )
    assert "Traceback" not in r.stderr


def test_skip_mode_reports_quarantined_records(tmp_path, ref, sample_dir):
    good = (sample_dir / "en-pud.iob2").read_text("utf-8").split("\n\n")[:2]
    f = tmp_path / "mixed.iob2"
    f.write_text("\n\n".join([good[0], "1\tBob\tI-PER", good[1]]) + "\n\n", "utf-8")
    out = tmp_path / "out"
    r = translate(f, out, ref.base_url, "--on-bad-record", "skip")
    assert r.returncode == 0, r.stderr
    assert "1 bad records skipped" in r.stdout.replace("\n", " ")
    report = json.loads((out / "report.json").read_text())
    assert report["total"] == 2 and report["run"]["skipped_bad_records"] == 1
    assert len((out / "quarantine.jsonl").read_text().splitlines()) == 1


def test_missing_model_names_the_flag(tmp_path, sample_dir):
    r = translate(sample_dir / "en-pud.iob2", tmp_path, None, env={"PARALLELNER_MODEL": ""})
    assert r.returncode == 2 and "pass --model or set PARALLELNER_MODEL" in r.stderr


def test_a_refused_key_names_the_variable_never_the_key(tmp_path, sample_dir):
    secret = "sk-test-never-print-me-123"
    with ReferenceServer(sample_dir / "pud-pairs.jsonl", api_key="right-key") as s:
        r = translate(sample_dir / "en-pud.iob2", tmp_path / "out", s.base_url,
                      env={"PARALLELNER_API_KEY": secret})  # fmt: skip
    assert r.returncode == 3
    assert "PARALLELNER_API_KEY" in r.stderr
    assert secret not in r.stdout + r.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_a_base_url_without_the_api_path_is_named(tmp_path, ref, sample_dir):
    r = translate(sample_dir / "en-pud.iob2", tmp_path / "out", ref.root, "--limit", "5")
    assert r.returncode == 3
    assert f"the chat completions route was not found at {ref.root}" in r.stderr
    assert "check --model and --base-url" in r.stderr


def test_the_right_key_is_accepted(tmp_path, sample_dir):
    with ReferenceServer(sample_dir / "pud-pairs.jsonl", api_key="right-key") as s:
        r = translate(sample_dir / "en-pud.iob2", tmp_path / "out", s.base_url, "--limit", "5",
                      env={"OPENAI_API_KEY": "right-key"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "out" / "report.json").read_text())["total"] == 5


def test_verify_flag_runs_the_verification_round_and_reports_its_cost(tmp_path, ref, sample_dir):
    out = tmp_path / "out"
    ref.admin("faults", {"latency": 0.2})
    r = translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "20", "--verify")
    assert r.returncode == 0, r.stderr
    # the verification calls go out beside each other, in their samples' slots; they used to
    # be awaited one at a time behind the stream (300 samples at 0.5 s: 30.4 s, now 6.0 s)
    assert ref.admin("stats")["most_in_flight"]["entity_alignment"] > 1
    report = json.loads((out / "report.json").read_text())
    verify = report["filters"]["verify"]
    assert report["filters"]["settings"]["verify"] is True
    assert verify["calls"] > 0 and verify["calls"] == verify["agree"] + verify["unknown"]
    assert verify["prompt_tokens"] > 0


def test_cache_off_or_none_switches_the_cache_off_and_writes_no_file(tmp_path, ref, sample_dir):
    """`--cache none` used to make a SQLite file named `none` in the working folder."""
    for word in ("off", "none", "None"):
        here = tmp_path / word
        here.mkdir()
        src = sample_dir / "en-pud.iob2"
        r = translate(src, Path("out"), ref.base_url, "--limit", "3", "--cache", word, cwd=here)
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in here.iterdir()) == ["out"]
        assert not (here / "out" / "cache").exists()
