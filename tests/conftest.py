"""Shared fixtures: the bundled UNER PUD sample, the shared corpora, a real reference server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from parallelner.config import Settings, load_settings  # noqa: E402
from parallelner.reference.process import ReferenceServer  # noqa: E402

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
