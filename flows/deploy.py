"""Serve the flows on cron schedules (long-running process; Ctrl-C or SIGTERM stops it).

    PREFECT_API_URL=http://127.0.0.1:4200/api python -m flows.deploy --config my-corpus.toml

build_corpus nightly, review pull every 30 minutes, export every morning. For a work pool
instead of this process, see docs/flows.md ("Deployments").
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

STOP_SECONDS = 10.0
STOPPED = "stopped serving: the schedules are paused on the server until this serves again"
NOT_STARTED = "stopped before serving"
UNREACHED = "stopped serving; the Prefect server did not answer, so the schedules were not paused"
ACTIVE = "stopped serving; the schedules are still active on the server (they were not paused)"


def deployments(config_path: Path, build_cron: str, pull_cron: str, export_cron: str) -> list:
    from flows.build_corpus import build_corpus
    from flows.config import load_config
    from flows.export import export_flow
    from flows.review import review_pull_flow

    config = load_config(config_path)
    params = {"config": config.model_dump()}
    return [
        build_corpus.to_deployment(
            name="nightly", cron=build_cron, parameters=params, tags=["parallelner"]
        ),
        review_pull_flow.to_deployment(
            name="review-pull", cron=pull_cron, parameters=params, tags=["parallelner"]
        ),
        export_flow.to_deployment(
            name="export", cron=export_cron, parameters=params, tags=["parallelner"]
        ),
    ]


class Stopper:
    """SIGTERM (kill, systemd) and SIGINT (Ctrl-C) end the process with exit code 0.

    Before serving there is nothing to shut down: exit at once. While serving, Prefect's runner
    shuts down (it pauses the schedules: nothing runs them while no process serves); if that
    hangs (the Prefect server is gone and the client keeps retrying) or the interrupt lands where
    Python ignores it, exit anyway after STOP_SECONDS. A second signal exits at once.
    """

    def __init__(self) -> None:
        self.serving = False
        self.signalled = False

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)

    def on_signal(self, signum: int, frame: object) -> None:
        self.stopping()
        raise KeyboardInterrupt

    def stopping(self) -> None:
        """Exit now if nothing is served or this is the second signal; else start the
        watchdog."""
        if not self.serving:
            say_and_exit(NOT_STARTED)
        if self.signalled:
            say_and_exit(UNREACHED)
        self.signalled = True
        timer = threading.Timer(STOP_SECONDS, say_and_exit, [UNREACHED])
        timer.daemon = True
        timer.start()


def say_and_exit(message: str) -> None:
    """Print why, then end the process at once (code 0), without atexit handlers or teardown:
    a watchdog's exit, unlike ``parallelner.run.fast_exit.exit_now``, which ends after the work."""
    print(message, file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(0)


def serve(deployments: list, stopper: Stopper) -> list[str]:
    """Prefect's ``serve``, with the watchdog on SIGTERM too (its runner installs its own
    SIGTERM handler when it starts); the served deployments' names, once it has stopped."""
    import asyncio

    from prefect.runner import Runner

    names = [f"{d.flow_name}/{d.name}" for d in deployments]

    class WatchedRunner(Runner):
        async def __aenter__(self):
            started = await super().__aenter__()
            print(f"serving {', '.join(names)}; Ctrl-C or SIGTERM stops", flush=True)
            stopper.serving = True
            return started

        def handle_sigterm(self, *args, **kwargs) -> None:
            stopper.stopping()
            super().handle_sigterm(*args, **kwargs)

    runner = WatchedRunner(pause_on_shutdown=True)
    for deployment in deployments:
        runner.add_deployment(deployment)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(runner.start())
    return names


def paused(names: list[str], seconds: float = 5.0) -> bool | None:
    """Whether the server has these deployments' schedules paused; None if it does not answer
    within ``seconds``."""
    import asyncio

    from prefect.client.orchestration import get_client

    async def read() -> bool:
        async with get_client() as client:
            found = [await client.read_deployment_by_name(n) for n in names]
            return all(d.paused for d in found)

    try:
        return asyncio.run(asyncio.wait_for(read(), seconds))
    except Exception:
        return None


def submit_partitions(config_path: Path, pool: str, count: int, attempts: int) -> int:
    """Deploy to ``pool``, run ``count`` partitions and the gather; the exit code."""
    from flows.config import load_config
    from flows.partitioned import deploy_to_pool, run_partitions

    def say(line: str) -> None:
        print(line, flush=True)

    config = load_config(config_path)
    deploy_to_pool(config, pool, say)
    try:
        manifest = run_partitions(config, count, attempts, say=say)
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopped waiting; the submitted runs go on on the workers", file=sys.stderr)
        return 130
    target = config.corpus_target
    if isinstance(target, str):
        from parallelner.io.storage import public_uri

        target = public_uri(target)
    from parallelner.run.report import phrase

    say(f"corpus: {target}  ({phrase(manifest['counts'], empty='no pairs')})")
    return 0


def main() -> None:
    stopper = Stopper()
    stopper.install()  # before the slow imports: a signal while starting stops it too
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, default=None, help="default: flows/sample.toml")
    ap.add_argument("--build-cron", default="0 2 * * *")
    ap.add_argument("--pull-cron", default="*/30 * * * *")
    ap.add_argument("--export-cron", default="0 6 * * *")
    p = ap.add_argument_group("partitioned build on a work pool (instead of serving)")
    p.add_argument("--partitions", type=int, help="submit N partition runs, then the gather")
    p.add_argument("--pool", default="parallelner", help="process work pool (parallelner)")
    p.add_argument("--attempts", type=int, default=3, help="runs per partition at most (3)")
    args = ap.parse_args()
    from flows.build_corpus import DEFAULT_CONFIG

    config = args.config or DEFAULT_CONFIG
    if args.partitions:
        stopper.serving = True  # Ctrl-C stops waiting; submitted runs go on on the workers
        sys.exit(submit_partitions(config, args.pool, args.partitions, args.attempts))
    names = serve(deployments(config, args.build_cron, args.pull_cron, args.export_cron), stopper)
    state = paused(names)  # the runner pauses them; say what the server holds
    say_and_exit({True: STOPPED, False: ACTIVE, None: UNREACHED}[state])


if __name__ == "__main__":
    main()
