"""Several machines, on this one: a real Prefect server, a process work pool and two workers,
each with its own endpoint (a node's local vLLM) from its environment; a partitioned build of
the UNER PUD data, one worker killed mid-run, and the gathered corpus holds each pair once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from parallelner.io.storage import ObjectStore
from parallelner.reference.process import ReferenceServer
from parallelner.run.candidate_store import CandidateStore

REPO = Path(__file__).resolve().parent.parent


def _descendants(pid: int) -> list[int]:
    """PIDs of every process under ``pid`` (from /proc), deepest last."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL a worker and every process it started, as a machine lost would end them."""
    tree = [process.pid, *_descendants(process.pid)]
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def _config(tmp_path: Path, shared: Path, corpus: str) -> Path:
    path = tmp_path / "build.toml"
    path.write_text(
        f'out = "{tmp_path / "out"}"\n'
        "shard_size = 40\nparallel_shards = 1\n\n"
        f'[export]\ncorpus = "{corpus}"\n\n'
        '[endpoint]\nmodel = "reference"\nconcurrency = 4\n'
        'base_urls = ["http://127.0.0.1:9/v1"]  # never used: each worker names its own\n\n'
        '[review]\nmode = "none"\n\n'
        "[[directions]]\n"
        f'src_lang = "en"\ntgt_lang = "zh"\ninputs = ["{shared / "en_pud.iob2"}"]\n',
        encoding="utf-8",
    )
    return path


def test_two_workers_build_four_partitions_and_a_lost_worker_is_made_good(
    prefect_server, s3, shared_data, tmp_path, monkeypatch
):
    pairs = shared_data / "uner-pud-en-zh" / "pairs.jsonl"
    uri = s3.uri("corpora/pud-partitioned")  # the corpus goes to the object store
    config = _config(tmp_path, shared_data / "uner-pud-en-zh", uri)
    nodes = {
        "node-a": ReferenceServer(pairs, latency=0.2),
        "node-b": ReferenceServer(pairs, latency=0.2),
    }
    workers: dict[str, subprocess.Popen] = {}
    try:
        for name, node in nodes.items():
            workers[name] = subprocess.Popen(
                [str(REPO / ".venv" / "bin" / "prefect"), "worker", "start", "--pool",
                 "parallelner-test", "--type", "process", "--name", name, "--limit", "1"],
                cwd=REPO,
                env={
                    **prefect_server.env,
                    **s3.env,
                    "PARALLELNER_BASE_URL": node.base_url,  # the node's own endpoint
                    "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
                    "PREFECT_WORKER_QUERY_SECONDS": "2",
                },
                stdout=open(tmp_path / f"{name}.log", "wb"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        command = subprocess.Popen(
            [sys.executable, "-m", "flows.deploy", "--config", str(config), "--pool",
             "parallelner-test", "--partitions", "4"],
            cwd=REPO,
            env={**prefect_server.env, **s3.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(command.stdout), daemon=True)
        reader.start()
        # Once node-a runs a partition (a flow-run process under its worker) and has answered
        # requests for it: lose node-a, worker and run.
        deadline = time.monotonic() + 600
        while command.poll() is None and time.monotonic() < deadline:
            if nodes["node-a"].admin("stats")["requests"] >= 20 and _descendants(
                workers["node-a"].pid
            ):
                _kill_tree(workers["node-a"])
                lines.append("-- test: node-a killed\n")
                break
            time.sleep(0.2)
        command.wait(timeout=900)
        reader.join(timeout=10)
        output = "".join(lines)
        assert command.returncode == 0, output[-4000:]
        assert "-- test: node-a killed" in output, output[-4000:]
        assert "Crashed" in output and "submitting again (2 of 3)" in output, output[-4000:]
        assert "all 4 partitions finished; gathering" in output
        used = {name: node.admin("stats")["requests"] for name, node in nodes.items()}
    finally:
        for worker in workers.values():
            if worker.poll() is None:
                _kill_tree(worker)
        for node in nodes.values():
            node.stop()

    out = tmp_path / "out"
    ids = CandidateStore(out).table(["id"]).column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 691  # every pair of the data, exactly once
    manifest = json.loads(ObjectStore.open(uri).read_bytes("manifest.json"))
    assert manifest["partitions"]["finished"] == {"en-zh": [1, 2, 3, 4]}
    rows = sum(s["rows"] for s in manifest["shards"])
    assert rows == manifest["counts"]["en-zh"] == manifest["filter_report"]["by_status"]["passed"]
    assert f"corpus: s3://corpora/pud-partitioned  (en-zh {rows:,})" in output
    import pandas as pd

    version = manifest["version"]
    corpus = pd.read_parquet(f"corpora/pud-partitioned/{version}/en-zh", filesystem=s3.filesystem())
    assert len(corpus) == rows and corpus["id"].is_unique  # each pair once, from the store
    import datasets

    # datasets runs offline in the tests (no hub); from an object store it reads over HTTP:
    # the only address here is the S3 server on 127.0.0.1.
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    shards = f"corpora/pud-partitioned/{version}/en-zh/part-*.parquet"
    loaded = s3.trainer_loads(shards, tmp_path / "hf")
    assert sorted(loaded["id"]) == sorted(corpus["id"])
    # Each worker translated against its own node (from its environment): both were used.
    assert used["node-a"] > 0 and used["node-b"] > 0, used
