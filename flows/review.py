"""review_push_flow / review_pull_flow: the review stage against Label Studio, as flows.

The server comes from LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY (never a flow parameter, so the
token is not stored with the run).
"""

from __future__ import annotations

from prefect import flow, task

from flows.config import CorpusConfig
from parallelner.review.jobs import (
    RoutingSettings,
    review_pull_job,
    review_push_job,
    review_report_job,
)
from parallelner.review.label_studio import LabelStudioServer


@task(retries=3, retry_delay_seconds=30)
def push(config: CorpusConfig) -> dict:
    r = config.review
    routing = RoutingSettings(r.policy, r.low_confidence, r.audit_rate, r.seed)
    return review_push_job(config.out_dir, r.project, LabelStudioServer.from_env(), routing)


@task(retries=3, retry_delay_seconds=30)
def pull(config: CorpusConfig) -> dict:
    return review_pull_job(config.out_dir, config.review.project, LabelStudioServer.from_env())


@task
def review_report(config: CorpusConfig) -> dict:
    return review_report_job(config.out_dir)


@flow(name="review-push")
def review_push_flow(config: CorpusConfig) -> dict:
    """Push the routed candidates as Label Studio tasks (idempotent)."""
    return push(config)


@flow(name="review-pull")
def review_pull_flow(config: CorpusConfig) -> dict:
    """Pull finished annotations as decisions, then the review report (audit estimate)."""
    pulled = pull(config)
    return {"pull": pulled, "report": review_report(config)}
