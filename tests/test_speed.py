"""Client speed without losing exactly-once: worker processes, the lean request path, batched
cache writes, a CLI that starts without importing the world. Speed itself is measured by
benchmarks/ (throughput.py, volume.py); these tests pin the behaviour that makes it safe."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import dead_url, ids_once, one_line, settings_for, translate

from parallelner.llm.cache import ChatReply, ResponseCache
from parallelner.llm.prompts import load_prompts
from parallelner.llm.wire import (
    FrozenParams,
    MalformedCompletion,
    messages_json,
    parse_completion,
    request_body,
    request_key,
    request_key_of,
)
from parallelner.readers import read_samples
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.jobs import translate_job
from parallelner.run.pool import merge_counts, share_of
from parallelner.run.shards import sample_line
from parallelner.run.steps import SAMPLES_PER_WORKER, worker_count


def _statuses(out: Path) -> dict[str, tuple[str, str]]:
    return {c.id: (c.status, c.tgt_text) for c in CandidateStore(out).read()}


def test_two_workers_make_the_same_candidates_as_one(ref, sample_dir, tmp_path):
    src = sample_dir / "en-pud.iob2"
    one = translate_job([src], tmp_path / "one", "en", "zh", settings_for(ref, workers=1))
    two = translate_job([src], tmp_path / "two", "en", "zh", settings_for(ref, workers=2))
    assert one["run"]["workers"] == 1 and two["run"]["workers"] == 2
    assert _statuses(tmp_path / "one") == _statuses(tmp_path / "two")
    assert len(CandidateStore(tmp_path / "two").parts()) == 2  # each worker its own part
    for key in ("translated", "requests"):
        assert one["run"][key] == two["run"][key]
    assert one["by_status"] == two["by_status"] and one["by_reason"] == two["by_reason"]
    assert one["filters"]["language_checks"] == two["filters"]["language_checks"] == 100
    # A rerun with workers finds everything done and sends nothing.
    again = translate_job([src], tmp_path / "two", "en", "zh", settings_for(ref, workers=2))
    assert again["run"]["already_done"] == 100 and again["run"]["requests"] == 0
    ids_once(tmp_path / "two", 100)


def test_killing_the_parent_kills_its_workers_and_the_rerun_finishes_exactly_once(
    ref, sample_dir, tmp_path
):
    out = tmp_path / "out"
    ref.admin("faults", {"latency": 0.3})
    args = [sys.executable, "-m", "parallelner.cli", "translate", str(sample_dir / "en-pud.iob2")]
    args += ["--src-lang=en", "--tgt-lang=zh", f"--out={out}", f"--base-url={ref.base_url}"]
    args += ["--model=reference", "--workers=2", "--concurrency=4", "--rows-per-part=5"]
    first = subprocess.Popen([*args, "--no-progress"], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(CandidateStore(out).parts()) < 2:
        time.sleep(0.05)
    children = _children(first.pid)
    assert len(children) == 2
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    for pid in children:  # the workers die with their parent, no writer is left behind
        _wait_gone(pid)
    written = len(CandidateStore(out).table(["id"]))
    assert 0 < written < 100
    ref.admin("faults", {"latency": 0.0})
    second = subprocess.run([*args, "--no-progress"], capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    ids_once(out, 100)
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["already_done"] == written


def _children(pid: int) -> list[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True)
        pids = [int(x) for x in found.stdout.split()]
        if pids:
            return pids
        time.sleep(0.05)
    return []


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    pytest.fail(f"worker {pid} outlived its parent")


def test_an_unreachable_endpoint_stops_every_worker_with_one_line(sample_dir, tmp_path):
    out = tmp_path / "out"
    r = translate(sample_dir / "en-pud.iob2", out, dead_url(), "--workers", "2")
    assert r.returncode == 3
    assert "cannot reach" in one_line(r)
    report = json.loads((out / "report.json").read_text())
    assert report["stopped"].startswith("EndpointError") and report["run"]["workers"] == 2


def test_worker_count_uses_cores_only_when_there_is_work_for_them():
    assert worker_count(0, 100, "openai", cores=8) == 1
    assert worker_count(0, 3 * SAMPLES_PER_WORKER, "openai", cores=8) == 3
    assert worker_count(0, 100 * SAMPLES_PER_WORKER, "openai", cores=8) == 8
    assert worker_count(4, 100, "openai", cores=2) == 4  # asked for: given
    assert worker_count(4, 3, "openai") == 3  # never more than there are samples
    assert worker_count(4, 10**6, "vllm") == 1  # the GPU is in this process


def test_shares_cover_the_pending_samples_once(sample_dir):
    samples = list(read_samples([sample_dir / "en-pud.iob2"], "en"))
    done = {f"{s.id}:en-zh" for s in samples[:30]}
    shares = [list(share_of(iter(samples), done, "zh", i, 3)) for i in range(3)]
    ids = [s.id for share in shares for s in share]
    assert sorted(ids) == sorted(s.id for s in samples[30:])
    assert sorted(len(s) for s in shares) == [23, 23, 24]


def test_counts_of_workers_add_up():
    a = {"translated": 3, "stats": {"requests": 5, "errors": {"X": 1}}, "filters": {"s": "t"}}
    b = {"translated": 4, "stats": {"requests": 6, "errors": {"Y": 2}}, "filters": {"s": "t"}}
    assert merge_counts(a, b) == {
        "translated": 7,
        "stats": {"requests": 11, "errors": {"X": 1, "Y": 2}},
        "filters": {"s": "t"},
    }


# --- the lean request path ------------------------------------------------------------------


def test_request_key_is_unchanged_so_existing_caches_still_answer(sample_dir):
    # the key this request had when the cache was written (a CJK text: ensure_ascii off)
    params = {"temperature": 0.0, "max_tokens": 2048, "response_format": {"type": "json_object"}}
    text = next(iter(read_samples([sample_dir / "zh-pud.iob2"], "zh"))).text
    messages = [{"role": "system", "content": "Translate."}, {"role": "user", "content": text}]
    key = "8d28667bfced4a4c51eb9aadddd98977d3a911b6f5c8e70f7919c120e26e16bd"
    assert request_key("m", "v3", messages, params) == key
    assert request_key_of("m", "v3", messages_json(messages), FrozenParams.of(params)) == key


def test_request_body_is_the_json_the_openai_client_would_send(sample_dir):
    prompts = load_prompts()
    params = {"temperature": 0.0, "max_tokens": 64, "response_format": prompts.response_format}
    sample = next(iter(read_samples([sample_dir / "zh-pud.iob2"], "zh")))
    messages = prompts.messages(sample, "en")
    body = json.loads(request_body("m", messages_json(messages), FrozenParams.of(params)))
    assert body == {"model": "m", "messages": messages, **params}
    bare = json.loads(request_body("m", "[]", FrozenParams.of({})))
    assert bare == {"model": "m", "messages": []}


def test_a_reply_that_is_not_a_completion_is_named():
    reply = parse_completion(
        b'{"model":"x","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":3}}', "m"
    )
    assert reply == ChatReply("hi", "x", 3, 0)
    for raw in (b"<html>busy</html>", b'{"choices": []}', b'{"error": "x"}'):
        with pytest.raises(MalformedCompletion, match="not a chat completion"):
            parse_completion(raw, "m")


def test_a_server_answering_garbage_fails_the_samples_not_the_run(ref, sample_dir, tmp_path):
    ref.admin("faults", {"faults": {}})
    out = tmp_path / "out"
    r = translate(sample_dir / "en-pud.iob2", out, ref.root + "/_admin", "--limit", "3")
    # /_admin/chat/completions does not exist: a 404 names the model/route, exit 3.
    assert r.returncode == 3 and "not found" in one_line(r)


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        (429, {"error": {"message": "slow down"}}, "RateLimitError", "Error code: 429 - slow down"),
        (401, {"error": {"message": "no"}}, "AuthenticationError", "Error code: 401 - no"),
        (404, {"detail": "no route"}, "NotFoundError", "Error code: 404"),
        (503, "overloaded", "InternalServerError", "Error code: 503"),
        (418, {}, "APIStatusError", "Error code: 418"),
    ],
)
def test_error_statuses_become_openais_typed_errors_as_openai_words_them(
    status, body, kind, message
):
    import httpx2

    from parallelner.llm.route import status_error

    request = httpx2.Request("POST", "http://127.0.0.1:1/v1/chat/completions")
    content = json.dumps(body).encode() if isinstance(body, dict) else body.encode()
    error = status_error(httpx2.Response(status, content=content, request=request))
    assert type(error).__name__ == kind and error.status_code == status
    assert error.message == message


def test_the_route_sends_the_clients_own_headers_and_key(ref):
    import openai

    from parallelner.llm.route import ChatRoute

    http = openai.DefaultAioHttpClient(timeout=5)
    client = openai.AsyncOpenAI(base_url=ref.base_url, api_key="sk-test", http_client=http)
    route = ChatRoute(client, http, 5.0)
    assert str(route.url) == f"{ref.base_url}/chat/completions"
    assert route.headers["authorization"] == "Bearer sk-test"
    assert route.headers["user-agent"] == client.user_agent
    assert route.extensions["timeout"]["read"] == 5.0


def _repeated(sample_dir: Path, folder: Path, n: int) -> Path:
    """The sample's 100 English sentences repeated with distinct ids up to ``n`` (JSONL)."""
    samples = list(read_samples([sample_dir / "en-pud.iob2"], "en"))
    path = folder / f"en-{n}.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for k in range(n):
            s = samples[k % len(samples)]
            fh.write(sample_line(type(s)(f"{s.id}#{k}", s.lang, s.text, s.entities)))
    return path


def _with_open_files(soft: int, hard: int, src: Path, out: Path, base_url: str, n: int):
    """``parallelner translate`` with ``--concurrency n`` (one worker) under ``ulimit -n``."""
    extra = ["--concurrency", str(n), "--workers", "1", "--cache", "off", "--no-progress"]
    limit = (resource.RLIMIT_NOFILE, (soft, hard))
    return translate(src, out, base_url, *extra, preexec_fn=lambda: resource.setrlimit(*limit))


def test_the_whole_concurrency_is_in_flight_past_openais_pool_and_the_soft_file_limit(
    ref, sample_dir, tmp_path
):
    """openai's default pool (1,000 connections) held a run to 1,000 requests in flight
    whatever --concurrency said; and 1,100 sockets do not fit a soft limit of 512 open files
    (the usual soft limit is 1,024), which the run raises up to the hard one."""
    src = _repeated(sample_dir, tmp_path, 1100)
    ref.admin("faults", {"latency": 1.0})
    r = _with_open_files(512, 4096, src, tmp_path / "out", ref.base_url, 1100)
    assert r.returncode == 0, r.stderr[-3000:]
    assert max(ref.admin("stats")["most_in_flight"].values()) > 1000
    ids_once(tmp_path / "out", 1100)


def test_a_file_limit_too_low_for_the_concurrency_is_named_before_any_request(
    ref, sample_dir, tmp_path
):
    src = _repeated(sample_dir, tmp_path, 200)
    r = _with_open_files(512, 512, src, tmp_path / "out", ref.base_url, 1000)
    assert r.returncode == 2
    assert one_line(r) == (
        "error: --concurrency: 1000 requests in flight need 1256 open files, and this process may "
        "open at most 512 (ulimit -Hn): lower --concurrency (or use more --workers: each opens "
        "its own share) or raise the limit"
    )
    assert ref.admin("stats")["requests"] == 0


# --- batched cache writes -------------------------------------------------------------------


def test_cache_answers_replies_not_yet_flushed_and_close_writes_them(tmp_path):
    path = tmp_path / "cache.sqlite"
    cache = ResponseCache(path)
    cache.put("k1", "v", ChatReply("one", "m", 1, 2))
    assert cache.get("k1") == ChatReply("one", "m", 1, 2, cached=True)
    other = ResponseCache(path)
    assert other.get("k1") is None  # still waiting for its batch
    cache.close()
    assert other.get("k1") == ChatReply("one", "m", 1, 2, cached=True)
    other.close()


def test_cache_writes_a_batch_after_a_quarter_second(tmp_path):
    path = tmp_path / "cache.sqlite"
    cache, other = ResponseCache(path), ResponseCache(path)
    cache.put("k1", "v", ChatReply("one", "m"))
    time.sleep(0.3)
    cache.put("k2", "v", ChatReply("two", "m"))  # the batch is due: both are written
    assert other.get("k1") is not None and other.get("k2") is not None
    cache.close()
    other.close()


def _open_at_once(path: Path, barrier, results) -> None:
    barrier.wait()
    try:
        ResponseCache(path).close()
        results.put("ok")
    except Exception as e:  # the test reports what went wrong
        results.put(f"{type(e).__name__}: {e}")


def test_processes_opening_a_new_cache_at_once_all_get_it(tmp_path):
    # the workers of a run open one new cache together; SQLite answered the switch to WAL
    # with "database is locked" at once (16 of 40 tries failed before it was retried)
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    for attempt in range(12):
        path = tmp_path / f"cache-{attempt}.sqlite"
        barrier, results = fork.Barrier(3), fork.Queue()
        openers = [fork.Process(target=_open_at_once, args=(path, barrier, results)) for _ in "abc"]
        for p in openers:
            p.start()
        for p in openers:
            p.join(timeout=60)
        assert [results.get(timeout=5) for _ in openers] == ["ok"] * 3


# --- start fast -----------------------------------------------------------------------------


def test_help_imports_no_client_stack():
    code = (
        "import sys, contextlib, io\n"
        "from parallelner.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])\n"
        "heavy = [m for m in ('openai', 'pandas', 'pyarrow', 'label_studio_sdk', 'rich',\n"
        "         'pydantic', 'prefect', 'langdetect') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""


def test_paced_gc_freezes_for_the_run_and_restores_the_process_after():
    import gc
    import threading

    from parallelner.run.gc_pacing import YOUNG_THRESHOLD, paced_gc

    before = gc.get_threshold()
    entered = threading.Event()
    leave = threading.Event()

    def other_run() -> None:  # a second run in a thread of the same process, ending later
        with paced_gc():
            entered.set()
            leave.wait(10)

    with paced_gc():
        assert gc.get_freeze_count() > 0  # the modules, this test: not walked by collections
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        thread = threading.Thread(target=other_run)
        thread.start()
        entered.wait(10)
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD  # the thread's run is still going
    leave.set()
    thread.join()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_pool_worker_ends_after_its_results_atexit_handlers_and_log_records(tmp_path):
    """The fast exit of a pool's workers loses nothing: the task's result comes back, the
    atexit handlers it registered run, its last log record reaches the parent's queue; what it
    skips is the teardown (an object left alive is never freed); a top-level process keeps its
    own exit code."""
    code = f"""
import atexit, logging, logging.handlers, multiprocessing, pathlib
from concurrent.futures import ProcessPoolExecutor
from parallelner.run.fast_exit import in_pool_worker

def setup(queue):
    in_pool_worker()
    logging.getLogger("w").addHandler(logging.handlers.QueueHandler(queue))

class Kept:  # alive until the interpreter's teardown frees it
    def __init__(self, path):
        self.path, self.open = path, open  # builtins are gone by the time it is freed
    def __del__(self):
        self.open(self.path, "w").close()

def task(marker):
    atexit.register(pathlib.Path(marker).touch)
    globals()["kept"] = Kept(marker + "-teardown")
    logging.getLogger("w").warning("last words")
    return multiprocessing.current_process().pid

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    pool = ProcessPoolExecutor(1, mp_context=ctx, initializer=setup, initargs=(queue,))
    pid = pool.submit(task, {str(tmp_path / "atexit-ran")!r}).result()
    workers = list(pool._processes.values())
    pool.shutdown(wait=True)
    print(pid, [w.exitcode for w in workers], queue.get(timeout=10).getMessage())
"""
    script = tmp_path / "pool.py"
    script.write_text(code)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    pid, codes, words = r.stdout.split(maxsplit=2)
    assert codes == "[0]" and words.strip() == "last words" and int(pid) != os.getpid()
    assert (tmp_path / "atexit-ran").exists()
    assert not (tmp_path / "atexit-ran-teardown").exists()
    top = (
        "from parallelner.run.fast_exit import in_pool_worker; in_pool_worker(); "
        "raise SystemExit(3)"
    )
    assert subprocess.run([sys.executable, "-c", top]).returncode == 3


def test_the_fast_exit_waits_for_threads_not_for_idle_thread_pools():
    """As the interpreter's own exit: a running thread is waited for, an idle thread pool that
    nobody shut down is told to stop (joining its threads first hung for ever), the code kept."""
    code = (
        "import threading, time\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from parallelner.run.fast_exit import exit_now\n"
        "ThreadPoolExecutor(1).submit(print, 'pool ran')\n"
        "threading.Thread(target=lambda: (time.sleep(0.3), print('thread ended'))).start()\n"
        "exit_now(4)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 4 and r.stdout.split("\n")[:2] == ["pool ran", "thread ended"]
