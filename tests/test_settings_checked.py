"""Settings are checked before anything is written or sent: numbers out of range, a partition
count two runs disagree on (even started at the same moment), --limit with --partition."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import cli, one_line, translate


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--concurrency", "0", "must be 1 or more"),
        ("--timeout", "-5", "must be more than 0 seconds"),
        ("--timeout", "nan", "must be more than 0 seconds"),
        ("--workers", "-2", "must be 0 (one per core) or more"),
        ("--max-attempts", "0", "0 would write every sample rejected unasked"),
    ],
)
def test_a_number_out_of_range_stops_before_anything_is_written(
    ref, sample_dir, tmp_path, flag, value, says
):
    out = tmp_path / "out"
    r = translate(sample_dir / "en-pud.iob2", out, ref.base_url, flag, value)
    assert r.returncode == 2
    line = one_line(r)
    assert line.startswith(f"error: {flag} ") and says in line and "PARALLELNER_" in line
    assert not out.exists() and ref.admin("stats")["requests"] == 0


def test_two_partition_counts_started_together_cannot_both_run(ref, sample_dir, tmp_path):
    out = tmp_path / "out"
    ref.admin("faults", {"latency": 0.05})
    args = ["translate", str(sample_dir / "en-pud.iob2"), "--src-lang", "en", "--tgt-lang", "zh",
            "--out", str(out), "--base-url", ref.base_url, "--model", "reference",
            "--no-progress"]  # fmt: skip
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "parallelner.cli", *args, "--partition", spec],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for spec in ("1/2", "1/3")
    ]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert "holds partitions of" in refused and "Traceback" not in refused
    whole = cli(*args)  # and a run without partitions is refused there too
    assert whole.returncode == 2 and "--partition i/" in one_line(whole)


def test_limit_with_a_partition_is_refused(ref, sample_dir, tmp_path):
    r = translate(sample_dir / "en-pud.iob2", tmp_path / "out", ref.base_url, "--partition", "1/2",
                  "--limit", "5")  # fmt: skip
    assert r.returncode == 2
    assert "--limit 5 with --partition 1/2" in one_line(r)
