"""The Prefect flows, run for real: under prefect_test_harness, and killed then rerun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL
from prefect.testing.utilities import prefect_test_harness

from flows.build_corpus import build_corpus
from flows.config import CorpusConfig, load_config
from parallelner.run.candidate_store import CandidateStore

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def harness():
    with prefect_test_harness(server_startup_timeout=120):
        yield


def _config(tmp_path: Path, ref, **overrides) -> CorpusConfig:
    config = load_config(REPO / "flows" / "sample.toml")
    config.out = str(tmp_path / "run")
    config.endpoint.reference_pairs = ""
    config.endpoint.base_urls = [ref.base_url]
    config.review.mode = "none"
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def test_full_build_on_the_sample_then_a_rerun_sends_zero_requests(harness, ref, tmp_path):
    config = _config(tmp_path, ref, shard_size=30)
    result = build_corpus(config)
    assert result["counts"] == {"en-zh": 91, "zh-en": 92}
    ids = CandidateStore(config.out_dir).table(["id"]).column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 200
    report = json.loads((config.out_dir / "report.json").read_text())
    assert report["shards"] == {"total": 8, "cached": 0} and report["run"]["translated"] == 200
    assert report["tasks"] == {"total": 4, "cached": 0}  # two runs of two shards a direction
    manifest = json.loads((config.corpus_dir / "manifest.json").read_text())
    assert sum(s["rows"] for s in manifest["shards"]) == 183
    sent = ref.admin("stats")["requests"]
    assert sent >= 200

    again = build_corpus(config)
    assert ref.admin("stats")["requests"] == sent  # zero LLM requests
    assert again["counts"] == result["counts"]
    assert again["report"]["shards"] == {"total": 8, "cached": 8}
    assert again["report"]["tasks"] == {"total": 4, "cached": 4}
    # The task results behind that cache are JSON, never a pickle that runs code when loaded.
    records = list((config.out_dir / ".prefect-cache").iterdir())
    assert len(records) == 4
    stored = []
    for record in records:
        metadata = json.loads(record.read_bytes())
        assert metadata["serializer"]["type"] == "json"
        stored.append(json.loads(Path(metadata["storage_key"]).read_bytes()))
    runs = sorted((r["direction"], r["shards"]) for r in stored)
    assert runs == [(pair, shards) for pair in ("en-zh", "zh-en") for shards in ([0, 1], [2, 3])]


def test_each_direction_is_translated_in_parallel_shards_runs_of_consecutive_shards():
    from parallelner.run.shards import ShardSpec, runs_of_shards

    en = [ShardSpec(f"en-{i}", "", 500, "en", "zh", i) for i in range(5)]
    zh = [ShardSpec("zh-0", "", 12, "zh", "en", 0)]
    runs = runs_of_shards(en + zh, 2)
    assert [[s.path for s in run] for run in runs] == [
        ["en-0", "en-1", "en-2"],
        ["en-3", "en-4"],
        ["zh-0"],  # fewer shards than tasks: fewer tasks
    ]
    assert runs_of_shards([], 2) == []


def test_a_wrong_source_language_fails_at_once_without_retries(harness, ref, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        TaskRunFilter,
        TaskRunFilterName,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    from parallelner.errors import ConfigError

    config = _config(tmp_path, ref)
    config.directions = config.directions[:1]
    config.directions[0].src_lang, config.directions[0].tgt_lang = "zh", "de"  # English input
    with pytest.raises(ConfigError, match="force = true"):
        build_corpus(config)
    with get_client(sync_client=True) as client:
        failed = client.read_task_runs(
            task_run_filter=TaskRunFilter(
                name=TaskRunFilterName(like_="make_shards"),
                state=TaskRunFilterState(type=TaskRunFilterStateType(any_=[StateType.FAILED])),
            )
        )
    assert [run.run_count for run in failed] == [1]  # not tried again 10 and 20 s later
    assert not (config.out_dir / "candidates").exists()  # nothing was sent


def test_build_publishes_a_keyed_markdown_artifact(harness, ref, tmp_path):
    from prefect.client.orchestration import get_client

    build_corpus(_config(tmp_path, ref))

    async def latest() -> str:
        async with get_client() as client:
            from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=["parallelner-build-report"])
                )
            )
            return found[-1].data

    import asyncio

    markdown = asyncio.run(latest())
    assert "| en-zh | 100 | 91 | 9 | 0 | 91.0% |" in markdown
    assert "entity_missing" in markdown and "folder totals (every candidate, all runs)" in markdown
    assert "- this run (flow): read " in markdown and " tokens " in markdown


def test_a_killed_run_resends_only_unfinished_samples(harness, ref, tmp_path):
    ref.admin("faults", {"latency": 0.1})
    config = _config(tmp_path, ref, shard_size=10, parallel_shards=1)
    config.endpoint.concurrency = 2
    path = tmp_path / "build.toml"
    path.write_text(_toml(config))
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        # The harness's server: the flow process starts none of its own (slow on a busy machine),
        # and the kill below ends the flow and its shard processes, not the server.
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PARALLELNER_ROWS_PER_PART": "10",
    }
    cmd = [sys.executable, "-m", "flows.build_corpus", "--config", str(path)]
    first = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # One task a direction, one after the other, a part every 10 candidates: 14 parts are
    # en-zh finished and 40 samples of zh-en. Killed there, in the middle of its second task.
    parts = config.out_dir / "candidates"
    started = time.monotonic()
    while len(list(parts.glob("part-*.parquet"))) < 14:
        assert first.poll() is None, "the flow ended before it could be killed"
        assert time.monotonic() - started < 600, "no candidate parts in 10 minutes"
        time.sleep(0.02)
    print(f"killed after {time.monotonic() - started:.1f} s")
    os.killpg(first.pid, signal.SIGKILL)  # the flow process and its shard processes
    first.wait()
    rows = CandidateStore(config.out_dir).table(["source_id", "src_lang"]).to_pylist()
    done_at_kill = {(r["src_lang"], r["source_id"]) for r in rows}
    assert 0 < len(done_at_kill) < 200
    ref.admin("reset")
    ref.admin("faults", {"latency": 0.0})
    second = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    ids = CandidateStore(config.out_dir).table(["id"]).column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 200  # every sample exactly once
    report = json.loads((config.out_dir / "report.json").read_text())
    assert report["run"]["already_done"] == len(done_at_kill)  # skipped, not translated again
    assert report["run"]["translated"] == 200 - len(done_at_kill)
    assert report["tasks"] == {"total": 2, "cached": 1}  # the finished en-zh task did not run
    resent = set(ref.admin("stats")["by_pair"])
    pairs = [json.loads(x) for x in (REPO / "sample" / "pud-pairs.jsonl").read_text().splitlines()]
    finished = {
        p["id"]
        for p in pairs
        if ("en", p["id"][4:]) in done_at_kill and ("zh", p["id"][4:]) in done_at_kill
    }
    assert finished and resent and not (resent & finished)  # only unfinished samples re-sent


def _toml(config: CorpusConfig) -> str:
    e = config.endpoint
    lines = [
        f'out = "{config.out}"',
        f"shard_size = {config.shard_size}",
        f"parallel_shards = {config.parallel_shards}",
        "",
        "[endpoint]",
        f'model = "{e.model}"',
        f"base_urls = {json.dumps(e.base_urls)}",
        f"concurrency = {e.concurrency}",
        "",
        "[review]",
        'mode = "none"',
        "",
    ]
    for d in config.directions:
        lines += [
            "[[directions]]",
            f'src_lang = "{d.src_lang}"',
            f'tgt_lang = "{d.tgt_lang}"',
            f"inputs = {json.dumps(d.inputs)}",
            "",
        ]
    return "\n".join(lines)


def test_deployments_serve_the_flows_on_cron_schedules():
    from flows.deploy import deployments

    built = deployments(REPO / "flows" / "sample.toml", "0 2 * * *", "*/30 * * * *", "0 6 * * *")
    by_name = {d.name: d for d in built}
    assert set(by_name) == {"nightly", "review-pull", "export"}
    crons = {name: d.schedules[0].schedule.cron for name, d in by_name.items()}
    assert crons == {"nightly": "0 2 * * *", "review-pull": "*/30 * * * *", "export": "0 6 * * *"}
    params = by_name["nightly"].parameters["config"]
    assert params["endpoint"]["model"] == "reference" and "api_key" not in json.dumps(params)


_TELEMETRY = (
    "import os, flows.build_corpus\n"
    "from prefect.settings import get_current_settings\n"
    "print(os.environ['DO_NOT_TRACK'], get_current_settings().server.analytics_enabled)\n"
)


@pytest.mark.parametrize(
    ("asked", "seen"),
    [
        ({}, "1 False"),
        ({"DO_NOT_TRACK": "0", "PREFECT_SERVER_ANALYTICS_ENABLED": "true"}, "0 True"),
    ],
)
def test_flows_send_no_telemetry_unless_asked(asked, seen):
    """A flow started without `make` (which sets both) must not phone home: on an air-gapped
    cluster Prefect's temporary server logged an ERROR for it at every run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DO_NOT_TRACK", "PREFECT_SERVER_ANALYTICS_ENABLED")
    }
    out = subprocess.run(
        [sys.executable, "-c", _TELEMETRY],
        cwd=REPO,
        env={**env, **asked},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[-2] == seen


def test_shard_cache_key_follows_the_prompt_version_not_the_speed_settings():
    from dataclasses import replace

    from parallelner.config import Settings

    base = Settings(model="m")
    assert base.fingerprint("joint-v1") != base.fingerprint("joint-v2")
    assert base.fingerprint("joint-v1") == replace(base, concurrency=8).fingerprint("joint-v1")
    assert base.fingerprint("joint-v1") != replace(base, max_attempts=5).fingerprint("joint-v1")


def _deployments(api_url: str) -> dict[str, dict]:
    import urllib.request

    request = urllib.request.Request(
        f"{api_url}/deployments/filter",
        data=b"{}",
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        return {d["name"]: d for d in json.loads(reply.read())}


def _serve(server, wait: bool = True) -> subprocess.Popen:
    """``python -m flows.deploy`` against ``server``; with ``wait``, once it serves the three
    deployments."""
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.deploy", "--config", str(REPO / "flows" / "sample.toml")],
        cwd=REPO,
        env=server.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    if wait:
        seen = []
        for line in process.stdout:  # up to the line serve() prints once it polls for runs
            seen.append(line)
            if line.startswith("serving build-corpus/nightly, review-pull/review-pull"):
                break
        assert process.poll() is None, "".join(seen)[-3000:]
        served = _deployments(server.url)
        assert set(served) == {"nightly", "review-pull", "export"}
        assert not any(d["paused"] for d in served.values())  # serving again resumes them
    return process


def test_serving_stops_cleanly_on_sigterm_and_ctrl_c_even_with_the_server_gone(prefect_server):
    from flows.deploy import STOP_SECONDS

    for sig, wait in ((signal.SIGTERM, True), (signal.SIGINT, True), (signal.SIGINT, False)):
        serving = _serve(prefect_server, wait)
        if not wait:
            time.sleep(0.8)  # while it starts: importing, building the deployments
        serving.send_signal(sig)
        output = serving.communicate(timeout=60)[0]
        assert serving.returncode == 0, output[-3000:]
        assert "Traceback" not in output
        if wait:  # stopped while serving: no process runs them, so Prefect paused them
            assert "stopped serving: the schedules are paused on the server" in output
            assert all(d["paused"] for d in _deployments(prefect_server.url).values())
        else:
            assert "stopped before serving" in output

    both = {signal.SIGTERM: _serve(prefect_server), signal.SIGINT: _serve(prefect_server)}
    prefect_server.kill()  # the server is gone; the serving processes keep retrying it
    time.sleep(3)
    for sig, serving in both.items():
        sent = time.monotonic()
        serving.send_signal(sig)
        try:
            output = serving.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired as e:
            os.killpg(serving.pid, signal.SIGKILL)
            raise AssertionError(f"{sig!r} did not stop it: {e.output[-3000:]}") from None
        assert serving.returncode == 0, output[-3000:]
        assert time.monotonic() - sent < STOP_SECONDS + 5
        assert "the Prefect server did not answer, so the schedules were not paused" in output


def test_partition_flow_runs_then_gather_give_the_corpus_of_one_run(harness, ref, tmp_path):
    from flows.build_corpus import gather
    from parallelner.errors import ConfigError

    config = _config(tmp_path, ref, shard_size=20)
    for i in (1, 2):
        result = build_corpus(config, partition=f"{i}/3")
        assert result["partition"] == f"{i}/3" and "corpus" not in result
    with pytest.raises(ConfigError, match=r"partitions not finished: en-zh 3/3; zh-en 3/3"):
        gather(config)
    assert not config.corpus_dir.exists()  # nothing exported, nothing pushed
    build_corpus(config, partition="3/3")
    gathered = gather(config)
    assert gathered["counts"] == {"en-zh": 91, "zh-en": 92}  # as one run of the whole
    ids = CandidateStore(config.out_dir).table(["id"]).column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 200
    manifest = json.loads((config.corpus_dir / "manifest.json").read_text())
    assert manifest["partitions"]["missing"] == {"en-zh": [], "zh-en": []}
    shards = sorted(p.parent.name for p in (config.out_dir / "shards").rglob("shard-*.jsonl"))
    assert set(shards) == {"p1of3", "p2of3", "p3of3"}


def test_a_direction_reads_its_inputs_with_its_reader_settings(harness, tmp_path):
    """GermEval's outer column by position, as TOML writes it ({token = 1, tag = 2})."""
    from prefect import flow

    from flows.config import DirectionConfig
    from flows.translate import make_shards

    germeval = REPO / "tests" / "data" / "germeval2014-dev-head.tsv"
    direction = DirectionConfig(
        src_lang="de", tgt_lang="en", inputs=[str(germeval)], columns={"token": 1, "tag": 2}
    )
    config = CorpusConfig(out=str(tmp_path / "run"), directions=[direction])

    @flow
    def shard():
        return make_shards(direction, config)

    rows = [json.loads(line) for s in shard() for line in Path(s.path).read_text().splitlines()]
    assert len(rows) == 11 and sum(len(r["entities"]) for r in rows) == 18


def test_a_flow_rerun_with_a_glossary_retranslates_only_the_pairs_it_contradicts(
    harness, ref, tmp_path
):
    config = _config(tmp_path, ref)
    first = build_corpus(config)
    assert first["counts"] == {"en-zh": 91, "zh-en": 92}
    report = json.loads((config.out_dir / "report.json").read_text())
    assert report["consistency"]["en-zh"]["repeated"] == 8
    glossary = tmp_path / "glossary.tsv"
    glossary.write_text(
        "source\tlabel\tpair\ttarget\torigin\nDonald Trump\tPER\ten-zh\t唐納德·特朗普\tuser\n"
    )
    sent = ref.admin("stats")["requests"]
    config.glossary, config.retranslate = str(glossary), ["glossary_mismatch"]
    again = build_corpus(config)
    assert 1 <= ref.admin("stats")["requests"] - sent <= 3  # one pair's rounds
    assert again["counts"] == {"en-zh": 90, "zh-en": 92}
    assert again["report"]["run"]["glossary_rejected"] == 1
    redone = {c.id: c for c in CandidateStore(config.out_dir).read()}["n01034033:en-zh"]
    assert redone.prompt_version == "joint-v1+glossary-v1"
    assert redone.reasons == ("glossary_mismatch",)
