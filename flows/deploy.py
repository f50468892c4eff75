"""Serve the flows on cron schedules (long-running process; Ctrl-C stops it).

    PREFECT_API_URL=http://127.0.0.1:4200/api python -m flows.deploy --config my-corpus.toml

build_corpus nightly, review pull every 30 minutes, export every morning. For a work pool
instead of this process, see the README ("Deployments").
"""

from __future__ import annotations

import argparse
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
    serve(*deployments(args.config, args.build_cron, args.pull_cron, args.export_cron))


if __name__ == "__main__":
    main()
