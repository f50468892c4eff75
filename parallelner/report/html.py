"""``parallelner report DIR``: one self-contained HTML page about a run folder.

What a data engineer looks at after a nightly run: counts by status and reason per language
pair, the confidence of passed pairs against the review threshold, length ratios against their
band, entity labels source vs target, review progress and the audit estimate with its interval,
and the history of runs (requests/s, cache hits, tokens). Plots are drawn by matplotlib as
inline SVG: the page fetches nothing, opens from disk, and can be mailed or archived as is.
"""

from __future__ import annotations

import html
import io
import json
import os
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from parallelner.config import RoutingSettings
from parallelner.filters.length import band, text_length_ratio
from parallelner.glossary.consistency import ConsistencyCounter, PairConsistency
from parallelner.io.atomic import write_text_atomically
from parallelner.review.audit import estimate_sentence, is_estimate, is_number
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.gc_pacing import paced_gc
from parallelner.run.report import adequacy_line, corpus_counts, projection_line

DEFAULT_THRESHOLD = RoutingSettings.low_confidence  # review push's, when nothing was pushed


@dataclass
class PairFigures:
    """What the plots of one language pair need."""

    confidences: list[float] = field(default_factory=list)  # passed pairs
    ratios: list[float] = field(default_factory=list)  # every judged pair
    band: tuple[float, float] = (0.0, 0.0)
    src_labels: Counter[str] = field(default_factory=Counter)
    tgt_labels: Counter[str] = field(default_factory=Counter)


@dataclass
class ReportData:
    folder: Path
    counts: dict
    runs: list[dict]
    pairs: dict[str, PairFigures]
    review: dict | None
    threshold: float
    adequacy: dict | None = None  # report.json's filters.adequacy
    consistency: dict[str, PairConsistency] = field(default_factory=dict)


def _json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def gather(out_dir: Path) -> ReportData:
    """Read the folder: candidate parts (streamed), report.json's run history, the review."""
    store = CandidateStore(out_dir)
    pairs: dict[str, PairFigures] = defaultdict(PairFigures)
    columns = ["src_lang", "tgt_lang", "status", "confidence", "src_text", "tgt_text"]
    renderings = ConsistencyCounter()  # counted in the same pass over the rows
    # Plain rows of the columns it plots, not whole candidates: 100k rows in seconds.
    for c in store.rows([*columns, "src_entities", "tgt_entities"]):
        renderings.add(c)
        figures = pairs[f"{c['src_lang']}-{c['tgt_lang']}"]
        if figures.band == (0.0, 0.0):
            figures.band = band(c["src_lang"], c["tgt_lang"])
        figures.src_labels.update(s["label"] for s in c["src_entities"])
        if c["status"] == "failed":
            continue
        figures.ratios.append(text_length_ratio(c["src_text"], c["tgt_text"] or ""))
        if c["status"] == "passed":
            figures.tgt_labels.update(s["label"] for s in c["tgt_entities"] or [] if s)
            if c["confidence"] is not None:
                figures.confidences.append(c["confidence"])
    push = _json(out_dir / "review" / "push.json") or {}
    threshold = (push.get("routing") or {}).get("low_confidence", DEFAULT_THRESHOLD)
    report = _json(out_dir / "report.json") or {}
    return ReportData(
        folder=out_dir,
        counts=corpus_counts(store),
        runs=report.get("runs") or ([report["run"]] if "run" in report else []),
        pairs=dict(sorted(pairs.items())),
        review=_json(out_dir / "review" / "report.json"),
        threshold=float(threshold),
        adequacy=(report.get("filters") or {}).get("adequacy"),
        consistency=renderings.figures(),
    )


# --- plots ----------------------------------------------------------------------------------


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # inline: no XML prolog


def _figure(n: int, height: float = 2.6):
    # matplotlib's font cache in a folder of ours, not the user's ~/.cache or ~/.config
    if not os.environ.get("MPLCONFIGDIR"):
        os.environ["MPLCONFIGDIR"] = str(_mpl_dir())
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9})
    fig, axes = plt.subplots(1, max(1, n), figsize=(4.2 * max(1, n), height), squeeze=False)
    return fig, list(axes[0])


def _mpl_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / f"parallelner-matplotlib-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def confidence_plot(data: ReportData) -> str:
    fig, axes = _figure(len(data.pairs))
    bins = [i / 20 for i in range(21)]
    for ax, (pair, f) in zip(axes, data.pairs.items(), strict=False):
        below = sum(c < data.threshold for c in f.confidences)
        ax.hist(f.confidences, bins=bins, color="#4c78a8")
        ax.axvline(data.threshold, color="#e45756", linestyle="--")
        ax.set_title(f"{pair}: {below} of {len(f.confidences)} below {data.threshold:g} (review)")
        ax.set_xlabel("confidence of passed pairs")
        ax.set_ylabel("pairs")
    return _svg(fig)


def length_plot(data: ReportData) -> str:
    fig, axes = _figure(len(data.pairs))
    for ax, (pair, f) in zip(axes, data.pairs.items(), strict=False):
        low, high = f.band
        top = max([high * 1.6, *(r for r in f.ratios if r < high * 3)], default=high * 1.6)
        ax.hist([min(r, top) for r in f.ratios], bins=40, color="#72b7b2")
        ax.axvspan(low, high, color="#54a24b", alpha=0.15, label=f"band {low:.2f}-{high:.2f}")
        outside = sum(not low <= r <= high for r in f.ratios)
        ax.set_title(f"{pair}: {outside} of {len(f.ratios)} outside the band")
        ax.set_xlabel("target / source visible characters")
        ax.legend(loc="upper right", frameon=False)
    return _svg(fig)


def label_plot(data: ReportData) -> str:
    fig, axes = _figure(len(data.pairs))
    for ax, (pair, f) in zip(axes, data.pairs.items(), strict=False):
        labels = sorted(f.src_labels | f.tgt_labels)
        x = range(len(labels))
        ax.bar([i - 0.2 for i in x], [f.src_labels[k] for k in labels], 0.4, label="source")
        ax.bar([i + 0.2 for i in x], [f.tgt_labels[k] for k in labels], 0.4, label="target")
        ax.set_xticks(list(x), labels)
        ax.set_title(f"{pair}: entities (source: all; target: passed)")
        ax.legend(frameon=False)
    return _svg(fig)


def _number(value: object) -> float:
    """A figure of report.json's run history as a number (0 where it is none)."""
    return float(value) if is_number(value) else 0.0


def runs_plot(data: ReportData) -> str:
    fig, axes = _figure(2)
    names = [f"{i + 1}\n{r.get('command', '?')}" for i, r in enumerate(data.runs)]
    axes[0].bar(names, [_number(r.get("requests_per_second")) for r in data.runs], color="#f58518")
    axes[0].set_title("requests/s per run")
    requests = [_number(r.get("requests")) for r in data.runs]
    hits = [_number(r.get("cache_hits")) for r in data.runs]
    axes[1].bar(names, requests, label="requests")
    axes[1].bar(names, hits, bottom=requests, label="from cache")
    axes[1].set_title("calls per run")
    top = max((a + b for a, b in zip(requests, hits, strict=True)), default=0.0)
    axes[1].set_ylim(0, max(1.0, top * 1.3))  # room above the bars for the legend
    axes[1].legend(frameon=False, loc="upper center", ncols=2)
    return _svg(fig)


# --- the page -------------------------------------------------------------------------------

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1280px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0; }
td, th { padding: 3px 10px; border: 1px solid #ddd; }
th { background: #f4f4f4; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; } svg { max-width: 100%; height: auto; }
"""


def _table(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{v:,}</td>' if isinstance(v, int) else f"<td>{html.escape(str(v))}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _numbers(found: dict, *names: str) -> bool:
    """Whether every one of ``names`` in ``found`` is a number (a report.json written by
    review pull; one written by anyone else is not rendered: the page never trusts it)."""
    return all(is_number(found.get(n)) for n in names)


def _review_section(data: ReportData) -> str:
    review = data.review
    if not review:
        return '<p class="note">No review yet (review pull writes review/report.json).</p>'
    if not _numbers(review, "reviewed", "passed", "conflicts") or not isinstance(
        review.get("by_status"), dict
    ):
        return '<p class="note">review/report.json is not as review pull writes it: not shown.</p>'
    parts = [
        f"<p>{review['reviewed']:,} of {review['passed']:,} passed pairs reviewed: "
        f"{html.escape(json.dumps(review['by_status']))}; {review['conflicts']:,} conflicts.</p>"
    ]
    audit = review.get("audit") or {}
    if not isinstance(audit, dict) or audit.get("precision") is None:
        parts.append('<p class="note">No audited pair reviewed yet: no precision estimate.</p>')
    elif not is_estimate(audit):
        parts.append('<p class="note">The audit figures are not as review pull writes them.</p>')
    else:
        parts.append(f"<p><b>Audit estimate:</b> {html.escape(estimate_sentence(audit))}.</p>")
    return "".join(parts)


#: Variants the page lists per direction (``parallelner glossary show`` lists more).
PAGE_VARIANTS = 10


def _consistency_section(found: dict[str, PairConsistency]) -> str:
    """Per direction: the source entities in two or more passed pairs, the share rendered one
    way, and the entities rendered more than one way."""
    if not any(c.repeated for c in found.values()):
        return '<p class="note">No source entity is in two or more passed pairs yet.</p>'
    rows = [
        [pair, c.entities, c.repeated, c.one_way, f"{c.share:.1%}" if c.repeated else "-"]
        for pair, c in found.items()
    ]
    parts = [_table(["pair", "entities", "repeated", "rendered one way", "share"], rows)]
    for pair, c in found.items():
        if not c.variants:
            continue
        variants = [
            [v.source, v.label, v.pairs, ", ".join(f"{t} ({n})" for t, n in v.renderings.items())]
            for v in c.variants[:PAGE_VARIANTS]
        ]
        parts.append(f"<h3>{html.escape(pair)}: rendered more than one way</h3>")
        parts.append(_table(["source", "label", "pairs", "renderings (pairs)"], variants))
        if len(c.variants) > PAGE_VARIANTS:
            more = len(c.variants) - PAGE_VARIANTS
            parts.append(f'<p class="note">... and {more:,} more: parallelner glossary show.</p>')
    return "".join(parts)


def _fixed(value: object) -> str:
    """``12.3`` for a number; anything else as its text (escaped by the table)."""
    return f"{value:.1f}" if is_number(value) else str(value)


def render(data: ReportData) -> str:
    """The page."""
    c = data.counts
    status_rows = [
        [pair, p["total"], p["passed"], p["rejected"], p["failed"], f"{p['pass_rate']:.1%}"]
        for pair, p in c["by_pair"].items()
    ]
    pairs = list(c["by_pair"])
    reason_rows = [
        [reason, *(c["by_pair"][p]["by_reason"].get(reason, 0) for p in pairs)]
        for reason in c["by_reason"]
    ]
    run_rows = [
        [
            i + 1,
            r.get("command", "?"),
            r.get("started_at", ""),
            r.get("samples_read", 0),
            r.get("translated", 0),
            r.get("requests", 0),
            r.get("cache_hits", 0),
            _fixed(r.get("requests_per_second", 0)),
            _fixed(r.get("wall_seconds", 0)),
        ]
        for i, r in enumerate(data.runs)
    ]
    tokens = c["tokens"]
    sections = [
        f"<h1>parallelner report: {html.escape(str(data.folder))}</h1>",
        f'<p class="note">Generated {time.strftime("%Y-%m-%d %H:%M:%S %Z")}. Counts cover '
        "every candidate in the folder, all runs.</p>",
        "<h2>Candidates by language pair</h2>",
        _table(["pair", "total", "passed", "rejected", "failed", "pass rate"], status_rows),
        "<h2>Reasons (a pair may have several)</h2>",
        _table(["reason", *pairs], reason_rows) if reason_rows else "<p>None.</p>",
        "<h2>Confidence of passed pairs</h2>",
        '<p class="note">Passed pairs below the dashed line go to review (review push '
        "--low-confidence); the rest are audited at --audit-rate.</p>",
        confidence_plot(data),
        f"<p>Last run: {html.escape(adequacy_line(data.adequacy) or 'adequacy: not recorded')}"
        ".</p>",
        f"<p>{html.escape(projection_line(c.get('projection')))}</p>"
        if c.get("projection")
        else "",
        "<h2>Length ratio against the pair's band</h2>",
        length_plot(data),
        "<h2>Entity labels, source vs target</h2>",
        label_plot(data),
        "<h2>Entity consistency: one name, one rendering</h2>",
        '<p class="note">Source entities (normalised surface and label) in two or more passed '
        "pairs of a direction, and how many of them every pair renders the same way. A "
        "glossary (--glossary; parallelner glossary build proposes one) makes them one.</p>",
        _consistency_section(data.consistency),
        "<h2>Review</h2>",
        _review_section(data),
        "<h2>Runs</h2>",
        f"<p>Tokens (folder): {tokens['prompt']:,} prompt + {tokens['completion']:,} completion; "
        f"attempts {c['attempts']['total']:,}.</p>",
        _table(
            [
                "#",
                "command",
                "started",
                "read",
                "translated",
                "requests",
                "from cache",
                "req/s",
                "s",
            ],
            run_rows,
        ),
        runs_plot(data) if data.runs else "",
    ]
    body = "\n".join(sections)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>parallelner report</title><style>{_STYLE}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


def write_html_report(out_dir: Path, path: Path | None = None) -> Path:
    """Write the page (default ``out_dir/report.html``); its path."""
    target = path or out_dir / "report.html"
    with paced_gc():  # every candidate row is read, and garbage a moment later
        write_text_atomically(target, render(gather(out_dir)))
    return target
