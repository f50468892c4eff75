"""Exactly once, whatever happens: a second run, an outage, bad input found before paying,
broken or hostile state. Each case asserts its exact outcome: ids exactly once, nothing paid
twice, one line on stderr (never a traceback), the exit code, nothing written outside --out."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import cli, dead_url, ids_once, one_line, translate

from parallelner.io.locks import hold, project_lock_dir
from parallelner.records import CANDIDATE_SCHEMA
from parallelner.review.tasks import labeling_config
from parallelner.run.candidate_store import CandidateStore


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


# --- one writer per folder ------------------------------------------------------------------


def test_a_second_translate_on_one_folder_refuses_at_once(ref, sample_dir, tmp_path):
    out = tmp_path / "out"
    ref.admin("faults", {"latency": 0.05})
    args = ["translate", str(sample_dir / "en-pud.iob2"), "--src-lang", "en", "--tgt-lang", "zh"]
    args += ["--out", str(out), "--base-url", ref.base_url, "--model", "reference"]
    first = subprocess.Popen(
        [sys.executable, "-m", "parallelner.cli", *args, "--concurrency", "2", "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while ref.admin("stats")["requests"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        second = cli(*args)
        assert time.monotonic() - started < 15  # refused at once, not after waiting
        assert second.returncode == 5
        line = one_line(second)
        assert f"PID {first.pid}" in line and str(out) in line
    finally:
        first.wait(timeout=120)
    assert first.returncode == 0, first.stderr
    requests = ref.admin("stats")["requests"]
    again = cli(*args)
    assert again.returncode == 0, again.stderr
    assert ref.admin("stats")["requests"] == requests  # nothing paid twice
    ids_once(out, 100)


def test_export_and_filter_refuse_a_copied_part(ref, sample_dir, tmp_path):
    out = tmp_path / "out"
    assert translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "30").returncode == 0
    part = CandidateStore(out).parts()[0]
    shutil.copy(part, part.with_name("part-copy-00000.parquet"))
    first_id = pq.read_table(part, columns=["id"]).column("id")[0].as_py()
    for args in (["export", str(out), "--out", str(tmp_path / "corpus")], ["filter", str(out)]):
        r = cli(*args)
        assert r.returncode == 2
        line = one_line(r)
        assert "is also in" in line and f"candidate {first_id!r}" in line
    assert not (tmp_path / "corpus" / "en-zh").exists()


def test_a_review_push_on_a_project_in_use_refuses(tmp_path, ref, sample_dir):
    out = tmp_path / "out"
    assert translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "5").returncode == 0
    url = "http://127.0.0.1:9"  # never contacted: the lock is taken first
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time; from pathlib import Path; from parallelner.io.locks import hold\n"
            "with hold(Path(sys.argv[1]), 'parallelner review push', what='x'):\n"
            "    print('held', flush=True); time.sleep(60)"
        ), str(project_lock_dir(url, "busy"))],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        env = {"LABEL_STUDIO_URL": url, "LABEL_STUDIO_API_KEY": "k"}
        r = cli("review", "push", str(out), "--project", "busy", env=env)
        assert r.returncode == 5
        assert f"PID {holder.pid}" in one_line(r) and "'busy'" in r.stderr
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_is_reentrant_in_one_process_and_released_after(tmp_path):
    with hold(tmp_path, "a"), hold(tmp_path, "b"):
        pass
    with hold(tmp_path, "c"):  # released: taken again at once
        pass


# --- failed is not final ---------------------------------------------------------------------


def test_a_dead_endpoint_stops_the_run_and_a_rerun_retries_everything(ref, sample_dir, tmp_path):
    out, url = tmp_path / "out", dead_url()
    r = translate(sample_dir / "en-pud.iob2", out, url, "--max-retries", "1", "--limit", "20")
    assert r.returncode == 3
    line = one_line(r)
    assert line.startswith("error: cannot reach") and url in line
    report = json.loads((out / "report.json").read_text())
    assert report["stopped"].startswith("EndpointError") and report["by_status"]["failed"] == 0
    again = translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "20")
    assert again.returncode == 0, again.stderr
    statuses = CandidateStore(out).table(["status"]).column("status").to_pylist()
    assert len(statuses) == 20 and "failed" not in statuses


def test_failed_samples_are_retried_on_the_rerun_from_the_cache(ref, sample_dir, pairs, tmp_path):
    out = tmp_path / "out"
    broken = [p["id"] for p in pairs[:3]]
    ref.admin("faults", {"faults": {pid: {"kind": "http_500"} for pid in broken}})
    r = translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--max-retries", "1")
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "report.json").read_text())["by_status"]["failed"] == 3
    sent = ref.admin("stats")["requests"]
    ref.admin("faults", {"faults": {pid: {"kind": "http_500", "times": 0} for pid in broken}})
    again = translate(sample_dir / "en-pud.iob2", out, ref.base_url)
    assert again.returncode == 0, again.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["retried_failed"] == 3 and report["by_status"]["failed"] == 0
    assert ref.admin("stats")["requests"] - sent == 3  # only the failed ones went out again
    ids_once(out, 100)


# --- validate before paying --------------------------------------------------------------------


def test_a_bad_last_record_stops_the_run_before_any_request(ref, sample_dir, tmp_path):
    text = (sample_dir / "en-pud.iob2").read_text("utf-8").rstrip("\n")
    f = tmp_path / "big.iob2"
    f.write_text(text + "\n\n# sent_id = bad\n1\tBob\tI-PER\n", "utf-8")
    last = len(f.read_text("utf-8").splitlines())
    out = tmp_path / "out"
    r = translate(f, out, ref.base_url)
    assert r.returncode == 2
    assert one_line(r) == (
        f"{f}:{last}: I-PER starts an entity (at the sentence start): an IOB1 file? "
        "rerun with --lenient-tags"
    )
    assert ref.admin("stats")["requests"] == 0
    report = json.loads((out / "report.json").read_text())
    assert report["stopped"].startswith("InputError") and report["total"] == 0


# --- one line for every broken state -----------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "foreign"])
def test_a_broken_part_is_named(ref, sample_dir, tmp_path, damage):
    out = tmp_path / "out"
    assert translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "10").returncode == 0
    part = CandidateStore(out).parts()[0]
    if damage == "truncated":
        part.write_bytes(part.read_bytes()[:200])
    else:
        pq.write_table(pa.table({"x": [1, 2]}), part)
    for args in (["export", str(out), "--out", str(tmp_path / "c")], ["filter", str(out)]):
        r = cli(*args)
        assert r.returncode == 2
        line = one_line(r)
        assert line.startswith(f"{part}: ") and "not a candidate part" in line


def test_a_corrupt_cache_is_named_with_what_to_do(ref, sample_dir, tmp_path):
    out = tmp_path / "out"
    cache = out / "cache" / "responses.sqlite"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"this is not a database at all" * 100)
    r = translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "5")
    assert r.returncode == 2
    line = one_line(r)
    assert str(cache) in line and "--cache" in line and "delete it" in line


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_full_disk_stops_with_what_was_kept_and_a_rerun_resumes(ref, sample_dir, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(disk)], check=True)
    try:
        out = disk / "out"
        args = ("--rows-per-part", "5", "--cache", str(tmp_path / "cache.sqlite"))
        r = translate(sample_dir / "en-pud.iob2", out, ref.base_url, *args)
        assert r.returncode == 6
        line = one_line(r)
        assert line.startswith("error: no space left while writing") and "rerun" in line
        kept = len(CandidateStore(out).table(["id"]))
        assert 0 < kept < 100
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        again = translate(sample_dir / "en-pud.iob2", out, ref.base_url, *args)
        assert again.returncode == 0, again.stderr
        ids_once(out, 100)
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "s1", "text": "Bad \\ud800 text", "entities": []}\n', "lone surrogate"),
        ('{"id": "s1", "text": "NUL \\u0000 inside", "entities": []}\n', "NUL character"),
        ("[" * 100_000 + "]" * 100_000 + "\n", "nested too deep"),
        (
            '{"id": "s1", "text": "John", "entities": '
            '[{"start": 0, "end": 4, "label": "PER\\"/><Label value=\\"EVIL"}]}\n',
            "is not a label",
        ),
    ],
    ids=["lone-surrogate", "nul-escape", "deep-nesting", "label-injection"],
)
def test_hostile_jsonl_records_name_file_and_line(tmp_path, content, message):
    f = tmp_path / "in.jsonl"
    f.write_text('{"id": "ok", "text": "Fine.", "entities": []}\n' + content, "utf-8")
    r = translate(f, tmp_path / "out", "http://127.0.0.1:9/v1")
    assert r.returncode == 2
    line = one_line(r)
    assert line.startswith(f"{f}:2: ") and message in line


def test_a_raw_nul_byte_in_conll_names_the_line(tmp_path):
    f = tmp_path / "in.iob2"
    f.write_bytes(b"1\tJohn\tB-PER\n2\tsa\x00id\tO\n\n")
    r = translate(f, tmp_path / "out", "http://127.0.0.1:9/v1")
    assert r.returncode == 2 and one_line(r).startswith(f"{f}:2: NUL character")


def test_a_utf8_bom_is_read_not_refused(ref, sample_dir, tmp_path):
    f = tmp_path / "bom.iob2"
    f.write_bytes(b"\xef\xbb\xbf" + (sample_dir / "en-pud.iob2").read_bytes())
    r = translate(f, tmp_path / "out", ref.base_url, "--limit", "3")
    assert r.returncode == 0, r.stderr
    ids_once(tmp_path / "out", 3)


def test_a_missing_input_is_quarantined_in_skip_mode(ref, sample_dir, tmp_path):
    out = tmp_path / "out"
    missing = tmp_path / "nope.iob2"
    r = translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "3")
    r = cli("translate", str(missing), str(sample_dir / "en-pud.iob2"), "--src-lang", "en",
            "--tgt-lang", "zh", "--out", str(out), "--base-url", ref.base_url, "--model",
            "reference", "--on-bad-record", "skip", "--limit", "3")  # fmt: skip
    assert r.returncode == 0, r.stderr
    quarantined = [json.loads(x) for x in (out / "quarantine.jsonl").read_text().splitlines()]
    assert quarantined == [{"path": str(missing), "line": None, "error": "no such file"}]


# --- hostile values stay data ------------------------------------------------------------------


def test_a_language_code_never_becomes_a_path(tmp_path, sample_dir):
    out = tmp_path / "run" / "out"
    before = files_under(tmp_path)
    r = cli("translate", str(sample_dir / "en-pud.iob2"), "--src-lang", "en", "--tgt-lang",
            "../../x", "--out", str(out), "--model", "m")  # fmt: skip
    assert r.returncode == 2
    assert "--tgt-lang '../../x' is not a language code" in one_line(r)
    assert files_under(tmp_path) == before


def test_a_hostile_part_cannot_make_export_write_outside_the_corpus(ref, sample_dir, tmp_path):
    out = tmp_path / "out"
    assert translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "3").returncode == 0
    part = CandidateStore(out).parts()[0]
    table = pq.read_table(part)
    hostile = table.set_column(
        table.schema.get_field_index("tgt_lang"),
        pa.field("tgt_lang", pa.string(), nullable=False),
        pa.array(["../../x"] * len(table)),
    )
    pq.write_table(hostile.cast(CANDIDATE_SCHEMA), part)
    r = cli("export", str(out), "--out", str(tmp_path / "corpus"))
    assert r.returncode == 2 and "is not a language code" in one_line(r)
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "x").exists()


def test_labels_are_escaped_in_the_labeling_config():
    hostile = 'PER"/><Label value="EVIL'
    root = ElementTree.fromstring(labeling_config([hostile, "ORG"]))
    # Two label sets (source, translation), each with exactly the two labels, the hostile one
    # kept as a value: it added no element.
    assert [e.get("value") for e in root.iter("Label")] == ["ORG", hostile] * 2


def test_temporary_files_of_a_killed_run_are_removed_by_the_next(ref, sample_dir, tmp_path):
    out = tmp_path / "out"
    assert translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "3").returncode == 0
    leftover = out / "candidates" / ".parallelner-tmp-99999.part-dead-00000.parquet"
    leftover.write_bytes(b"half a part")
    assert translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "3").returncode == 0
    assert not leftover.exists()


def test_the_reference_endpoint_binds_ipv6_loopback(tmp_path, sample_dir):
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "parallelner.cli", "reference-server", "--host", "::1",
         "--port", "0", "--ready-file", str(ready)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read()
        port = json.loads(ready.read_text())["port"]
        while True:  # bound before the ready file, listening a moment after
            try:
                with socket.create_connection(("::1", port), timeout=5):
                    break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
