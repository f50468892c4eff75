"""review_push_flow / review_pull_flow: the review stage against Label Studio, as flows.

The server comes from LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY (never a flow parameter, so the
token is not stored with the run).
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task

from flows.config import CorpusConfig
from parallelner.review.jobs import (
    progress_line,
    review_progress,
    review_pull_job,
    review_push_job,
    review_report_job,
)
from parallelner.review.label_studio import LabelStudioServer


@task(retries=3, retry_delay_seconds=30)
def push(config: CorpusConfig) -> dict:
    server = LabelStudioServer.from_env(notify=get_run_logger().warning)
    return review_push_job(config.out_dir, config.review.project, server, config.review.routing())


@task(retries=3, retry_delay_seconds=30)
def pull(config: CorpusConfig) -> dict:
    server = LabelStudioServer.from_env(notify=get_run_logger().warning)
    return review_pull_job(config.out_dir, config.review.project, server)


@task
def review_report(config: CorpusConfig) -> dict:
    return review_report_job(config.out_dir)


@flow(name="review-push")
def review_push_flow(config: CorpusConfig) -> dict:
    """Push the routed candidates as Label Studio tasks (idempotent)."""
    return push(config)


@flow(name="review-pull")
def review_pull_flow(config: CorpusConfig, pushed: dict | None = None) -> dict:
    """Pull finished annotations as decisions, then the review report (audit estimate); with
    the push's result, where review stands (logged: tasks decided, pending, left out)."""
    pulled = pull(config)
    result = {"pull": pulled, "report": review_report(config)}
    if pushed is not None:
        result["progress"] = review_progress(pushed, pulled)
        get_run_logger().info(progress_line(result["progress"]))
    return result
