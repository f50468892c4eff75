"""Start and stop the reference endpoint as a child process (tests, sample run, benchmarks)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


class ReferenceServer:
    """A reference server this process started; ``stop()`` ends it by its PID, nothing else."""

    def __init__(self, pairs: Path, *, latency: float = 0.0, api_key: str | None = None):
        self._dir = tempfile.TemporaryDirectory(prefix="parallelner-ref-")
        ready = Path(self._dir.name) / "ready.json"
        cmd = [
            sys.executable,
            "-m",
            "parallelner.cli",
            "reference-server",
            "--pairs",
            str(pairs),
            "--port",
            "0",
            "--latency",
            str(latency),
            "--ready-file",
            str(ready),
        ]
        env = dict(os.environ)
        if api_key:  # handed over in the environment, never on the command line
            env["PARALLELNER_REFERENCE_KEY"] = api_key
            cmd += ["--api-key-env", "PARALLELNER_REFERENCE_KEY"]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
        self.port = self._wait_ready(ready)
        self.root = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.root}/v1"

    def _wait_ready(self, ready: Path, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"reference server exited with code {self.process.returncode}")
            if ready.exists():
                port = json.loads(ready.read_text())["port"]
                try:
                    httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1.0)
                    return port
                except httpx.TransportError:
                    pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("reference server did not start within 60 s")

    def admin(self, action: str, body: dict | None = None) -> dict:
        """Call an admin route: ``stats`` (GET), ``faults`` or ``reset`` (POST)."""
        url = f"{self.root}/_admin/{action}"
        r = httpx.get(url) if action == "stats" else httpx.post(url, json=body or {})
        r.raise_for_status()
        return r.json()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._dir.cleanup()

    def __enter__(self) -> ReferenceServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
