"""build_corpus: translate -> (review push, pull) -> export, for data engineers' schedules.

    python -m flows.build_corpus --config flows/sample.toml

With ``[endpoint] reference_pairs`` set (the sample config), the bundled reference endpoint is
started on 127.0.0.1 for the run and stopped after it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prefect import flow

from flows.artifacts import publish
from flows.config import CorpusConfig, load_config
from flows.export import export_flow
from flows.review import review_pull_flow, review_push_flow
from flows.translate import with_parallel_shards
from parallelner.report.html import write_html_report
from parallelner.run.report import phrase

DEFAULT_CONFIG = Path(__file__).resolve().parent / "sample.toml"


@flow(name="build-corpus", log_prints=True)
def build_corpus(config: CorpusConfig, partition: str = "") -> dict:
    """The whole pipeline over one config; where the corpus is and what it holds.

    With ``partition`` (``i/N``, or ``config.partition``) only that partition is translated;
    the ``gather`` flow reviews and exports once every partition is.
    """
    if partition:
        config = config.model_copy(update={"partition": partition})
    report = with_parallel_shards(config)(config)
    if config.partition:
        print(f"partition {config.partition} of {config.out} translated; gather exports it")
        return {"partition": config.partition, "report": report}
    return finish(config, report)


@flow(name="gather", log_prints=True)
def gather(config: CorpusConfig) -> dict:
    """Review (when configured) and export a folder that partition runs translated; refuses
    while a partition is unfinished."""
    from parallelner.run.partitions import gather_state
    from parallelner.run.report import RunFigures, write_report

    config = config.model_copy(update={"partition": ""})
    gathered = gather_state(config.out_dir)  # before any review task is pushed
    print(f"gathering {gathered.count} partitions of {config.out}: {gathered.finished}")
    report = write_report(config.out_dir, RunFigures(command="gather"))
    return finish(config, report)


def finish(config: CorpusConfig, report: dict) -> dict:
    """After translation: review push and pull (when configured), export, the HTML report and
    the artifact."""
    review = progress = None
    if config.review.active():
        pushed = review_push_flow(config)
        pulled = review_pull_flow(config, pushed)
        review, progress = pulled["report"], pulled["progress"]
    manifest = export_flow(config)
    page = write_html_report(config.out_dir)
    print(f"report: {page}")
    publish(report, review, manifest, progress, page)
    return {
        "corpus": manifest.get("published_to") or str(config.corpus_dir),
        "counts": manifest["counts"],
        "report": report,
        "review": review,
        "review_progress": progress,
        "html_report": str(page),
    }


def run_with_reference(config: CorpusConfig) -> dict:
    """build_corpus, with the bundled reference endpoint when the config asks for it."""
    if not config.endpoint.reference_pairs:
        return build_corpus(config)
    from parallelner.reference.process import ReferenceServer

    pairs = Path(config.endpoint.reference_pairs)
    with ReferenceServer(pairs, latency=config.endpoint.reference_latency) as server:
        config.endpoint.base_urls = [server.base_url]
        print(f"reference endpoint: {server.base_url} (human translations from {pairs.name})")
        return build_corpus(config)


def main(argv: list[str] | None = None) -> int:
    from parallelner.run.report import print_summary

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    args = ap.parse_args(argv)
    result = run_with_reference(load_config(args.config))
    print_summary(result["report"])
    print(f"corpus: {result['corpus']}  ({phrase(result['counts'], empty='no pairs')})")
    return 0


if __name__ == "__main__":
    from parallelner.run.fast_exit import exit_now

    exit_now(main())  # without the teardown of Prefect's and openai's modules (0.5-0.9 s)
