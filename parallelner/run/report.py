"""``report.json``: counts by status, reason and language pair, attempts, tokens and the run's
figures; and the table printed at the end of a run."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
from rich.console import Console
from rich.table import Table

from parallelner.glossary.consistency import COLUMNS as CONSISTENCY_COLUMNS
from parallelner.glossary.consistency import consistency
from parallelner.io.atomic import write_text_atomically
from parallelner.llm.backend import ClientStats
from parallelner.run.candidate_store import CandidateStore

_COLUMNS = [
    "projection",
    "src_lang",
    "tgt_lang",
    "status",
    "reasons",
    "attempts",
    "prompt_tokens",
    "completion_tokens",
]


@dataclass
class RunFigures:
    """What one invocation did (the counts of the corpus come from the parts)."""

    command: str = "translate"  # translate, filter, flow
    started_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    wall_seconds: float = 0.0
    samples_read: int = 0
    skipped_bad_records: int = 0
    already_done: int = 0
    retried_failed: int = 0  # failed (and --retranslate) candidates removed to be retried
    glossary_rejected: int = 0  # passed candidates the glossary now contradicts
    translated: int = 0
    workers: int = 1  # translate processes
    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    failed_calls: int = 0
    judged: int = 0  # candidates re-judged (filter)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.wall_seconds if self.wall_seconds else 0.0

    def count_client(self, stats: ClientStats) -> None:
        """This run's calls: what its client (or its workers' clients, summed) counted."""
        self.requests, self.cache_hits, self.retries = (
            stats.requests,
            stats.cache_hits,
            stats.retries,
        )
        self.failed_calls, self.errors = stats.failures, dict(stats.errors)


def consistency_figures(store: CandidateStore) -> dict[str, object]:
    """report.json's ``consistency``: per direction, the source entities in two or more passed
    pairs, the share rendered one way, the variants (``glossary.consistency``)."""
    import pyarrow.compute as pc

    def passed_rows() -> Iterator[dict]:
        for t in store.tables(CONSISTENCY_COLUMNS):
            yield from t.filter(pc.equal(t["status"], "passed")).to_pylist()

    return {pair: c.as_dict() for pair, c in consistency(passed_rows()).items()}


def consistency_line(found: dict | None) -> str:
    """``entity consistency: en-zh 7 of 9 repeated entities rendered one way (77.8%), ...``
    ("" when no entity repeats, or the report predates the figures)."""
    parts = [
        f"{pair} {c['one_way']} of {c['repeated']} ({c['one_way'] / c['repeated']:.1%})"
        for pair, c in (found or {}).items()
        if isinstance(c, dict) and c.get("repeated")
    ]
    if not parts:
        return ""
    return (
        "entity consistency (repeated entities rendered one way): "
        + ", ".join(parts)
        + "; see `parallelner glossary show`"
    )


def corpus_counts(store: CandidateStore) -> dict[str, object]:
    """Counts over every candidate part (read part by part, columns only): by status, reason,
    language pair; attempts; tokens."""
    import pyarrow.compute as pc  # here: only the end of a command needs it

    by_status: Counter[str] = Counter()
    by_pair_status: Counter[tuple[str, str]] = Counter()
    by_pair_reason: Counter[tuple[str, str]] = Counter()
    attempts: Counter[int] = Counter()
    projection: Counter[str] = Counter()
    prompt_tokens = completion_tokens = 0
    for t in store.tables(_COLUMNS):
        passed = t.filter(pc.equal(t["status"], "passed"))["projection"]
        projection.update(m for m in pc.list_flatten(passed).to_pylist() if m)
        pair = pc.binary_join_element_wise(t["src_lang"], t["tgt_lang"], "-")
        by_pair_status.update(_grouped({"pair": pair, "status": t["status"]}))
        reason_rows = pc.list_parent_indices(t["reasons"])
        by_pair_reason.update(
            _grouped({"pair": pair.take(reason_rows), "reason": pc.list_flatten(t["reasons"])})
        )
        attempts.update({k[0]: n for k, n in _grouped({"attempts": t["attempts"]}).items()})
        prompt_tokens += pc.sum(t["prompt_tokens"]).as_py() or 0
        completion_tokens += pc.sum(t["completion_tokens"]).as_py() or 0
    by_pair: dict[str, dict[str, object]] = {}
    for name in sorted({p for p, _ in by_pair_status}):
        counts = {s: n for (p, s), n in by_pair_status.items() if p == name}
        by_status.update(counts)
        total = sum(counts.values())
        by_pair[name] = {
            "total": total,
            **{s: counts.get(s, 0) for s in ("passed", "rejected", "failed")},
            "by_reason": dict(sorted((r, n) for (p, r), n in by_pair_reason.items() if p == name)),
            "pass_rate": round(counts.get("passed", 0) / total, 4) if total else 0.0,
        }
    total = sum(by_status.values())
    by_reason: Counter[str] = Counter()
    for (_, reason), n in by_pair_reason.items():
        by_reason[reason] += n
    tried = sum(k * v for k, v in attempts.items())
    return {
        # how the entities of passed pairs were found (recovery.METHODS)
        "projection": dict(sorted(projection.items())),
        "total": total,
        "by_status": {s: by_status.get(s, 0) for s in ("passed", "rejected", "failed")},
        "by_reason": dict(sorted(by_reason.items())),
        "by_pair": by_pair,
        "attempts": {
            "total": tried,
            "mean": round(tried / total, 3) if total else 0.0,
            "histogram": {str(k): v for k, v in sorted(attempts.items())},
        },
        "tokens": {"prompt": prompt_tokens, "completion": completion_tokens},
    }


def _grouped(columns: dict[str, object]) -> dict[tuple, int]:
    """Row counts of each distinct combination of ``columns``' values (arrow arrays)."""
    table = pa.table(columns)
    if not table.num_rows:
        return {}
    names = list(columns)
    counted = table.group_by(names).aggregate([([], "count_all")]).to_pydict()
    keys = zip(*(counted[n] for n in names), strict=True)
    return dict(zip(keys, counted["count_all"], strict=True))


def write_report(out_dir: Path, run: RunFigures, extra: dict[str, object] | None = None) -> dict:
    """Write ``out_dir/report.json`` from the parts and this run's figures; return it.

    The counts (``total``, ``by_status``, ``by_reason``, ``by_pair``, ``attempts``, ``tokens``)
    are the folder's: every candidate of every run. ``run`` is this invocation alone; ``runs``
    the history of invocations on the folder (the last ``HISTORY``), oldest first.
    """
    report = {
        "counts_are": "every candidate in the folder",
        **corpus_counts(CandidateStore(out_dir)),
        "consistency": consistency_figures(CandidateStore(out_dir)),
    }
    report["run"] = {**asdict(run), "requests_per_second": round(run.requests_per_second, 2)}
    report["run"]["wall_seconds"] = round(run.wall_seconds, 3)
    report["runs"] = [*_history(out_dir), report["run"]][-HISTORY:]
    if extra:
        report.update(extra)
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    write_text_atomically(out_dir / "report.json", text)
    return report


HISTORY = 100


def _history(out_dir: Path) -> list[dict]:
    """The ``runs`` of the folder's last report.json (none if it is missing or unreadable)."""
    try:
        runs = json.loads((out_dir / "report.json").read_text(encoding="utf-8")).get("runs", [])
    except (OSError, ValueError, AttributeError):
        return []
    return runs if isinstance(runs, list) else []


def _status_table(report: dict) -> Table:
    table = Table(title="folder: every candidate, all runs, by language pair")
    for col in ("pair", "total", "passed", "rejected", "failed", "pass rate"):
        table.add_column(col, justify="left" if col == "pair" else "right")
    for name, p in report["by_pair"].items():
        table.add_row(
            name,
            *(str(p[k]) for k in ("total", "passed", "rejected", "failed")),
            f"{p['pass_rate']:.1%}",
        )
    return table


def _reason_table(report: dict) -> Table:
    """Reasons down, language pairs across: a candidate counts once under each of its reasons."""
    pairs = list(report["by_pair"])
    table = Table(title="reasons (a pair may have several)")
    table.add_column("reason")
    for name in pairs:
        table.add_column(name, justify="right")
    for reason in report["by_reason"]:
        counts = [report["by_pair"][p]["by_reason"].get(reason, 0) for p in pairs]
        table.add_row(reason, *(str(c) for c in counts))
    return table


def phrase(counts: dict, empty: str = "none", unit: str = "") -> str:
    """Counts for people: ``approved 3, corrected 1`` (``en-zh 9.0%`` with ``unit="%"`` for
    shares), never a Python dict."""
    if not counts:
        return empty
    if unit == "%":
        return ", ".join(f"{k} {float(v):.1%}" for k, v in counts.items())
    return ", ".join(f"{str(k).replace('_', ' ')} {v:,}" for k, v in counts.items())


def structured_line(found: dict | None) -> str:
    """``structured output: json_object (auto; json_schema refused)``, or "" when not probed."""
    if not found or not found.get("used"):
        return ""
    refused = sorted({m for e in found.get("endpoints", []) for m in e.get("refused", {})})
    how = found["requested"] + (f"; {', '.join(refused)} refused" if refused else "")
    return f"structured output: {found['used']} ({how})"


def adequacy_line(found: dict | None) -> str:
    """``adequacy (checks): 100 checked, 2 to review (numbers 1, words left 1), 0 unknown;
    words left: cannot tell for 100 (one script); 0 tokens a pair``, or ``adequacy: not
    checked ...`` when it was off ("" when the report predates the check)."""
    if not found:
        return ""
    if found.get("method", "off") == "off":
        return (
            "adequacy: not checked (--adequacy checks, round_trip or judge sends a pair whose "
            "translation says something else to review)"
        )
    by_check = ", ".join(
        f"{name.replace('_', ' ')} {n}" for name, n in (found.get("found") or {}).items()
    )
    line = (
        f"adequacy ({found['method']}): {found['checked']} checked, {found['low']} to review"
        + (f" ({by_check})" if by_check else "")
        + f", {found['unknown']} unknown"
    )
    blind = {k: n for k, n in (found.get("not_applicable") or {}).items() if n}
    if blind:
        line += "; cannot tell for " + ", ".join(
            f"{n} by {name.replace('_', ' ')}" for name, n in blind.items()
        )
    return line + f"; {found['tokens_per_pair']:g} tokens a pair"


def projection_line(counts: dict[str, int] | None) -> str:
    """``entities of passed pairs found: model 15, normalised 1, asked 7`` ("" if none)."""
    if not counts:
        return ""
    order = ("model", "normalised", "asked", "located")
    found = ", ".join(f"{m} {counts[m]:,}" for m in order if counts.get(m))
    return f"entities of passed pairs found: {found}"


def print_summary(report: dict, console: Console | None = None) -> None:
    """The end-of-run tables (status per language pair, reasons) and the run's figures."""
    console = console or Console()
    console.print(_status_table(report))
    if report["by_reason"]:
        console.print(_reason_table(report))
    console.print(run_line(report["run"]))
    for line in (
        structured_line(report.get("structured_output")),
        projection_line(report.get("projection")),
        adequacy_line((report.get("filters") or {}).get("adequacy")),
        consistency_line(report.get("consistency")),
    ):
        if line:
            console.print(line, markup=False, highlight=False)
    if normalised := (report.get("read") or {}).get("normalised"):
        notes = "; ".join(f"{what}: {n:,}" for what, n in normalised.items())
        console.print(f"read: {notes}", markup=False, highlight=False)
    console.print(
        f"folder totals: {report['total']} candidates, {report['attempts']['total']} attempts, "
        f"tokens {report['tokens']['prompt']} prompt + {report['tokens']['completion']} "
        "completion"
    )


def run_line(run: dict) -> str:
    """One line: what this invocation did."""
    calls = (
        f"{run['requests']} requests ({run['requests_per_second']:.1f}/s), "
        f"{run['cache_hits']} from cache, {run['retries']} retries, "
        f"{run['failed_calls']} failed calls"
    )
    seconds = f"{run['wall_seconds']:.1f} s"
    if run.get("command") == "filter":
        return (
            f"this run (filter): re-judged {run.get('judged', 0)} candidates in {seconds}; {calls}"
        )
    workers = run.get("workers", 1)
    across = f" in {workers} worker processes" if workers > 1 else ""
    retried = f", {run['retried_failed']} failed retried" if run.get("retried_failed") else ""
    if run.get("glossary_rejected"):
        retried += f", {run['glossary_rejected']} passed pairs contradicting the glossary rejected"
    line = (
        f"this run ({run.get('command', 'translate')}): read {run['samples_read']} samples "
        f"({run['skipped_bad_records']} bad records skipped, {run['already_done']} already "
        f"done{retried}), translated {run['translated']}{across} in {seconds}; {calls}"
    )
    if run["samples_read"] and run["already_done"] == run["samples_read"]:
        line += (
            "; nothing left to translate: the folder holds every sample (a rerun resumes; "
            "to start over use another --out, or delete it: `make clean` for the sample)"
        )
    return line
