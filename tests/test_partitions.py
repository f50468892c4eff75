"""Partitioned runs into one folder, and the gather: the export reads every partition, refuses
overlaps and names the partitions that are missing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import cli, translate

from parallelner.errors import ConfigError
from parallelner.readers import read_samples
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.partitions import Partition


def test_partitions_split_real_ids_disjointly_evenly_and_the_same_way_every_time(shared_data):
    ewt = shared_data / "uner-en-ewt"
    samples = list(read_samples([ewt / "en_ewt-ud-dev.iob2", ewt / "en_ewt-ud-test.iob2"], "en"))
    parts = [Partition(i, 4) for i in range(1, 5)]
    owners = Counter()
    for s in samples:
        holders = [p.index for p in parts if p.holds(s.id)]
        assert len(holders) == 1  # every sample in exactly one partition
        owners[holders[0]] += 1
    assert sum(owners.values()) == len(samples) == 4078
    assert max(owners.values()) / min(owners.values()) < 1.15  # 954 to 1,052 of 4,078
    # Stable across machines and Python versions (blake2b, not hash()): pinned.
    assert [p.index for p in parts if p.holds("n01001011")] == [3]


@pytest.mark.parametrize("text", ["0/4", "5/4", "2", "a/b", "2/0"])
def test_a_bad_partition_is_refused_with_the_expected_form(text):
    with pytest.raises(ConfigError, match=r"expected i/N with 1 <= i <= N, e.g. 2/4"):
        Partition.parse(text)


def _ids(out: Path) -> list[str]:
    return CandidateStore(out).table(["id"]).column("id").to_pylist()


def test_partition_runs_share_a_folder_and_export_gathers_them(tmp_path, ref, sample_dir):
    src, out = sample_dir / "en-pud.iob2", tmp_path / "out"
    whole = translate(src, tmp_path / "whole", ref.base_url, "--no-progress")
    assert whole.returncode == 0, whole.stderr
    # Partitions 1-3 of 4 at the same time, into one folder.
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "parallelner.cli",
                "translate",
                str(src),
                "--src-lang",
                "en",
                "--tgt-lang",
                "zh",
                "--out",
                str(out),
                "--base-url",
                ref.base_url,
                "--model",
                "reference",
                "--no-progress",
                "--partition",
                f"{i}/4",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in (1, 2, 3)
    ]
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        assert "finished; `parallelner export" in stdout.replace("\n", " ")
    names = sorted(x.name for x in (out / "candidates").iterdir())
    assert {n.split("-")[1] for n in names} == {"p1of4", "p2of4", "p3of4"}

    refused = cli("export", str(out), "--out", str(tmp_path / "corpus"))
    assert refused.returncode == 2
    assert "partitions not finished: en-zh 4/4 (of 4)" in refused.stderr
    partial = cli("export", str(out), "--out", str(tmp_path / "corpus"), "--allow-missing")
    assert partial.returncode == 0, partial.stderr
    manifest = json.loads((tmp_path / "corpus" / "manifest.json").read_text())
    assert manifest["partitions"]["missing"] == {"en-zh": [4]}

    # A run without --partition (or with another N) would overlap them: refused.
    mixed = translate(src, out, ref.base_url, "--no-progress")
    assert mixed.returncode == 2 and "holds partitions of 4" in mixed.stderr
    other = translate(src, out, ref.base_url, "--no-progress", "--partition", "1/3")
    assert other.returncode == 2 and "not of 3: use --partition i/4" in other.stderr

    last = translate(src, out, ref.base_url, "--no-progress", "--partition", "4/4")
    assert last.returncode == 0, last.stderr
    sent = ref.admin("stats")["requests"]
    again = translate(src, out, ref.base_url, "--no-progress", "--partition", "2/4")
    assert again.returncode == 0 and ref.admin("stats")["requests"] == sent  # all done: none
    done = cli("export", str(out), "--out", str(tmp_path / "corpus"))
    assert done.returncode == 0, done.stderr
    assert "gathered 4 partitions, none missing" in done.stdout
    ids = _ids(out)
    assert len(ids) == len(set(ids)) == 100 and sorted(ids) == sorted(_ids(tmp_path / "whole"))
    manifest = json.loads((tmp_path / "corpus" / "manifest.json").read_text())
    assert manifest["counts"] == {"en-zh": 91}  # as the run without partitions
    assert manifest["partitions"] == {
        "count": 4,
        "finished": {"en-zh": [1, 2, 3, 4]},
        "missing": {"en-zh": []},
    }
    assert manifest["filter_report"]["by_status"] == {"passed": 91, "rejected": 9, "failed": 0}


def test_an_overlap_between_partitions_stops_the_export(tmp_path, ref, sample_dir):
    out = tmp_path / "out"
    for i in (1, 2):
        r = translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--partition", f"{i}/2")
        assert r.returncode == 0, r.stderr
    first, second = sorted((out / "candidates").glob("part-*.parquet"))
    # A part copied into the other partition's name: the same candidates twice.
    table = pq.read_table(first)
    pq.write_table(table, second.with_name(second.name.replace("-00000", "-00001")))
    r = cli("export", str(out), "--out", str(tmp_path / "corpus"))
    assert r.returncode == 2 and "is also in" in r.stderr


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from parallelner.io.locks import hold
with hold(Path(sys.argv[1]), "test holder", partition=sys.argv[2]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_partition_runs_alone_and_whole_folder_commands_wait_for_all(tmp_path, ref, sample_dir):
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(out), "p2of4"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        same = translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--partition", "2/4")
        assert same.returncode == 5
        assert "partition p2of4 of" in same.stderr and "test holder" in same.stderr
        other = translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--partition", "1/4")
        assert other.returncode == 0, other.stderr  # another partition runs beside it
        whole = cli("export", str(out), "--out", str(tmp_path / "corpus"))
        assert whole.returncode == 5
        assert f"is in use by partition runs: PID {holder.pid} (test holder)" in whole.stderr
    finally:
        holder.kill()
        holder.wait()
