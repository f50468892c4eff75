"""Serve the flows on cron schedules (long-running process; Ctrl-C stops it).

    PREFECT_API_URL=http://127.0.0.1:4200/api python -m flows.deploy --config my-corpus.toml

build_corpus nightly, review pull every 30 minutes, export every morning. For a work pool
instead of this process, see the README ("Deployments").
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

from prefect import serve

from flows.build_corpus import DEFAULT_CONFIG, build_corpus
from flows.config import load_config
from flows.export import export_flow
from flows.review import review_pull_flow


def deployments(config_path: Path, build_cron: str, pull_cron: str, export_cron: str) -> list:
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    ap.add_argument("--build-cron", default="0 2 * * *")
    ap.add_argument("--pull-cron", default="*/30 * * * *")
    ap.add_argument("--export-cron", default="0 6 * * *")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # kill, systemd: as Ctrl-C
    with contextlib.suppress(KeyboardInterrupt):
        serve(*deployments(args.config, args.build_cron, args.pull_cron, args.export_cron))
    _stop()


def _stop() -> None:
    """Say so and exit 0; if shutting down hangs (the Prefect server is gone and the client
    keeps retrying), exit anyway after STOP_SECONDS."""
    print("stopped serving; the deployments keep their schedules on the server", file=sys.stderr)
    timer = threading.Timer(STOP_SECONDS, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    sys.exit(0)


STOP_SECONDS = 10.0


if __name__ == "__main__":
    main()
