"""An export is all or nothing: killed at any moment or on a full disk, the corpus folder holds
the old corpus or the new one, whole (part files exactly its manifest's, checksums matching,
the card's snippets loading it); one corpus folder holds one run folder's export; cleanup
touches only our own temporary files."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cli, one_line, settings_for

from parallelner.io.checksums import file_sha256
from parallelner.run.jobs import translate_job


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, _server, sample_dir) -> Path:
    """The bundled sample translated both ways (183 pairs pass, auto-accepted)."""
    _server.admin("reset")
    out = tmp_path_factory.mktemp("run")
    for src, tgt in (("en", "zh"), ("zh", "en")):
        translate_job([sample_dir / f"{src}-pud.iob2"], out, src, tgt, settings_for(_server))
    return out


def whole(corpus: Path) -> dict:
    """Assert ``corpus`` is one whole export; its manifest. Its version folder holds exactly
    the manifest's shards, each with its checksum, no other version folder is left beside it
    once an export finished, and the card's first snippet loads every pair it counts."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    version = manifest["version"]
    listed = sorted(s["path"] for s in manifest["shards"])
    on_disk = sorted(str(p.relative_to(corpus)) for p in (corpus / version).rglob("*.parquet"))
    assert on_disk == listed
    for shard in manifest["shards"]:
        assert file_sha256(corpus / shard["path"]) == shard["sha256"], shard
    card = (corpus / "README.md").read_text()
    snippet = re.findall(r"```python\n(.*?)```", card, re.S)[0]
    snippet = snippet.split("from datasets")[0]  # pandas and pyarrow: no cache to set up
    here = os.getcwd()
    os.chdir(corpus)
    try:
        found: dict = {}
        exec(snippet, found)
    finally:
        os.chdir(here)
    assert found["table"].num_rows == sum(manifest["counts"].values())
    return manifest


def export(run: Path, corpus: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return cli("export", str(run), "--out", str(corpus), *extra)


def test_a_sigkill_at_any_moment_leaves_the_old_corpus_or_the_new_one(run_dir, tmp_path):
    corpus = tmp_path / "corpus"
    assert export(run_dir, corpus, "--shard-rows", "50").returncode == 0
    old = whole(corpus)
    started = time.monotonic()
    assert export(run_dir, tmp_path / "timing", "--shard-rows", "1").returncode == 0
    seconds = time.monotonic() - started  # a 183-shard export, start to end
    outcomes, mid_write = [], 0
    for k in range(8):  # from the start of the process to past its switch
        proc = subprocess.Popen(
            [sys.executable, "-m", "parallelner.cli", "export", str(run_dir), "--out",
             str(corpus), "--shard-rows", str(1 + k % 2)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(seconds * (0.25 + 0.1 * k if k < 7 else 2.0))  # the last: past its end
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = whole(corpus)
        outcomes.append(now["version"] != old["version"])
        unfinished = [p for p in corpus.glob("v*/.parallelner-version")
                      if p.parent.name != now["version"]]  # fmt: skip
        mid_write += bool(unfinished) and any(unfinished[0].parent.rglob("*.parquet"))
        rows = sum(now["counts"].values())
        assert rows == sum(old["counts"].values()) == 183
        old = now
    # the next export removes a killed one's unfinished version folder
    assert export(run_dir, corpus, "--shard-rows", "50").returncode == 0
    final = whole(corpus)
    versions = [p.name for p in corpus.iterdir() if p.name.startswith("v")]
    assert versions == [final["version"]]
    assert not any(p.name.startswith(".parallelner-tmp-") for p in corpus.rglob("*"))
    # the kills landed in the middle of writing shards, and after the switch
    assert mid_write >= 2 and sum(outcomes) >= 1, (mid_write, outcomes)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_full_disk_leaves_the_previous_corpus_and_says_so(run_dir, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    first = export(run_dir, tmp_path / "size", "--shard-rows", "20")
    assert first.returncode == 0
    size = sum(p.stat().st_size for p in (tmp_path / "size").rglob("*") if p.is_file())
    # room for one corpus and a half: the second export fills the disk half way through
    room = int(size * 1.5) // 4096 * 4096 + 4096
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={room}", "tmpfs", str(disk)], check=True)
    try:
        corpus = disk / "corpus"
        assert export(run_dir, corpus, "--shard-rows", "20").returncode == 0
        before = whole(corpus)
        r = export(run_dir, corpus, "--shard-rows", "20")
        assert r.returncode == 6
        line = one_line(r)
        assert line.startswith(f"error: no space left while exporting into {corpus}")
        assert "the previous corpus (v0001, 183 pairs) is intact" in line
        assert whole(corpus) == before
        assert [p.name for p in corpus.iterdir() if p.name.startswith("v")] == ["v0001"]
        subprocess.run(["mount", "-o", f"remount,size={room * 4}", str(disk)], check=True)
        assert export(run_dir, corpus, "--shard-rows", "20").returncode == 0
        assert whole(corpus)["version"] == "v0002"
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_one_corpus_folder_holds_one_run_folders_export(run_dir, ref, sample_dir, tmp_path):
    other = tmp_path / "other"
    translate_job([sample_dir / "en-pud.iob2"], other, "en", "zh", settings_for(ref), limit=5)
    corpus = tmp_path / "corpus"
    assert export(run_dir, corpus).returncode == 0
    before = whole(corpus)
    refused = export(other, corpus)
    assert refused.returncode == 2
    line = one_line(refused)
    assert str(run_dir) in line and "--replace" in line
    assert whole(corpus) == before
    alignxie = export(run_dir, corpus, "--format", "alignxie")
    assert alignxie.returncode == 2 and "--format parquet" in one_line(alignxie)
    replaced = export(other, corpus, "--replace")
    assert replaced.returncode == 0, replaced.stderr
    after = whole(corpus)  # what the card's snippets load is exactly the new manifest
    assert after["run_folder"] == str(other.resolve()) and sum(after["counts"].values()) <= 5


def test_a_corpus_exported_before_versions_is_replaced_file_by_file(run_dir, tmp_path):
    """A corpus of an older parallelner (shards at CORPUS/<pair>/): the next export moves it
    into a version folder and deletes only the shards its old manifest listed."""
    corpus = tmp_path / "corpus"
    assert export(run_dir, corpus).returncode == 0
    manifest = json.loads((corpus / "manifest.json").read_text())
    version = manifest.pop("version")
    manifest.pop("run_folder")
    for shard in manifest["shards"]:
        old = corpus / shard["path"]
        shard["path"] = shard["path"].removeprefix(f"{version}/")
        (corpus / shard["path"]).parent.mkdir(parents=True, exist_ok=True)
        old.rename(corpus / shard["path"])
    (corpus / version / ".parallelner-version").unlink()
    (corpus / version).rename(tmp_path / "gone")
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    mine = corpus / "en-zh" / "my-notes.txt"
    mine.write_text("a user's own file")
    assert export(run_dir, corpus).returncode == 0
    assert whole(corpus)["version"] == "v0001"
    assert mine.read_text() == "a user's own file"
    assert not (corpus / "zh-en").exists() and list((corpus / "en-zh").iterdir()) == [mine]


def test_cleanup_touches_only_our_own_temporary_files(run_dir, ref, sample_dir, tmp_path):
    """A user's ``.budget.xlsx.tmp`` and ``.env.tmp-bak`` survive every command that takes a
    folder's lock; an export into a parent folder leaves another export's files alone."""
    out = tmp_path / "out"
    out.mkdir()
    users = [out / "data" / ".budget.xlsx.tmp", out / ".env.tmp-bak", out / "notes.tmp"]
    for f in users:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("the user's")
    ours = out / "candidates" / ".parallelner-tmp-99999.part-dead-00000.parquet"
    ours.parent.mkdir()
    ours.write_bytes(b"half a part")
    args = ["translate", str(sample_dir / "en-pud.iob2"), "--src-lang", "en", "--tgt-lang", "zh"]
    r = cli(*args, "--out", str(out), "--base-url", ref.base_url, "--model", "reference",
            "--limit", "3")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert not ours.exists()  # a killed writer's leftover, ours by its name
    corpus = tmp_path / "corpora"
    inner = corpus / "inner"
    assert export(run_dir, inner).returncode == 0
    theirs = inner / "v0001" / ".parallelner-tmp-12345.part-00000.parquet"
    theirs.write_bytes(b"another export, still writing")
    (corpus / ".budget.xlsx.tmp").write_text("the user's")
    assert export(out, corpus).returncode == 0
    assert theirs.exists()  # under a folder with its own lock: not this export's to clean
    assert (corpus / ".budget.xlsx.tmp").read_text() == "the user's"
    for f in users:
        assert f.read_text() == "the user's", f
