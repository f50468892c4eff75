"""The run summary as a Prefect markdown artifact (keyed, so each run adds a version)."""

from __future__ import annotations

from pathlib import Path

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from parallelner.review.audit import estimate_sentence
from parallelner.review.jobs import progress_line
from parallelner.run.report import phrase, run_line

REPORT_KEY = "parallelner-build-report"
PAIRS_KEY = "parallelner-language-pairs"


def _status_rows(report: dict) -> list[dict]:
    return [
        {
            "pair": pair,
            "total": p["total"],
            "passed": p["passed"],
            "rejected": p["rejected"],
            "failed": p["failed"],
            "pass_rate": f"{p['pass_rate']:.1%}",
        }
        for pair, p in report["by_pair"].items()
    ]


def summary_markdown(report: dict, review: dict | None, manifest: dict | None) -> str:
    """Counts by status, reason and language pair; tokens; throughput; review and audit."""
    run = report["run"]
    lines = [
        "# parallelner build",
        "",
        "| pair | total | passed | rejected | failed | pass rate |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['pair']} | {r['total']} | {r['passed']} | {r['rejected']} | {r['failed']} | "
        f"{r['pass_rate']} |"
        for r in _status_rows(report)
    ]
    pairs = list(report["by_pair"])
    lines += ["", "| reason | " + " | ".join(pairs) + " |", "|---|" + "---|" * len(pairs)]
    for reason in report["by_reason"]:
        counts = [str(report["by_pair"][p]["by_reason"].get(reason, 0)) for p in pairs]
        lines.append(f"| {reason} | " + " | ".join(counts) + " |")
    lines += [
        "",
        f"- folder totals (every candidate, all runs): {report['total']:,} candidates; tokens "
        f"{report['tokens']['prompt']:,} prompt + {report['tokens']['completion']:,} "
        f"completion; attempts {report['attempts']['total']:,} (mean {report['attempts']['mean']})",
        f"- {run_line(run)}",
    ]
    if review:
        audit = review.get("audit") or {}
        lines.append(
            f"- review: {review['reviewed']} of {review['passed']} passed pairs reviewed "
            f"({phrase(review['by_status'])}), {review['conflicts']} conflicts"
        )
        if audit.get("precision") is not None:
            lines.append(f"- audit: {estimate_sentence(audit)}")
    if manifest:
        counts = phrase(manifest["counts"], empty="no pairs")
        lines.append(f"- corpus: {counts} in {len(manifest['shards'])} shards")
    return "\n".join(lines) + "\n"


def publish(
    report: dict,
    review: dict | None = None,
    manifest: dict | None = None,
    progress: dict | None = None,
    page: Path | None = None,
) -> None:
    """Publish the summary and the per-pair table as artifacts of the current run (with a
    link to the HTML report ``page``)."""
    markdown = summary_markdown(report, review, manifest)
    if progress:
        markdown += f"- {progress_line(progress)}\n"
    if page:
        markdown += f"- report with plots: [{page.name}]({page.resolve().as_uri()})\n"
    create_markdown_artifact(
        key=REPORT_KEY,
        markdown=markdown,
        description="parallelner: counts, reasons, tokens, review, audit",
    )
    create_table_artifact(
        key=PAIRS_KEY, table=_status_rows(report), description="candidates by language pair"
    )
