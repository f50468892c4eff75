"""review push / pull / report over an output folder (CLI and flows call these).

Files: ``DIR/review/push.json`` (the routing settings and counts of the last push),
``DIR/review/decisions.parquet`` (one row per finished task, DECISION_SCHEMA, replaced whole by
every pull), ``DIR/review/report.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from parallelner.config import RoutingSettings
from parallelner.errors import ConfigError
from parallelner.io.atomic import write_table_atomically, write_text_atomically
from parallelner.io.locks import hold, project_lock_dir
from parallelner.records import DECISION_SCHEMA, decision_to_row
from parallelner.review.audit import precision_estimate
from parallelner.review.decisions import decide
from parallelner.review.routing import AUDIT, route_for, route_of
from parallelner.review.tasks import labeling_config, task_for
from parallelner.run.candidate_store import CandidateStore

DEFAULT_ROUTING = RoutingSettings()

if TYPE_CHECKING:  # label_studio_sdk is imported by the commands that talk to Label Studio
    from parallelner.review.label_studio import LabelStudioServer


def _review_dir(out_dir: Path) -> Path:
    path = out_dir / "review"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_json(path: Path, data: dict) -> None:
    write_text_atomically(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _labels(store: CandidateStore) -> list[str]:
    return store.labels() or ["LOC", "ORG", "PER"]


def _existing_ids(server: LabelStudioServer, project_id: int) -> set[str]:
    return {t["data"].get("candidate_id") for t in server.tasks(project_id)}


def _import_chunk(server: LabelStudioServer, project_id: int, chunk: list[dict]) -> int:
    """Import one chunk, retried as every call is; after a failure, re-check which tasks
    arrived so none is doubled."""
    pending = list(chunk)

    def send() -> int:
        if not pending:  # every task of the chunk arrived before the failure was seen
            return 0
        response = server.sdk.projects.import_tasks(
            id=project_id, request=pending, return_task_ids=True
        )
        return len(response.task_ids or [])

    def drop_arrived() -> None:
        present = _existing_ids(server, project_id)  # retried inside, until it answers
        pending[:] = [t for t in pending if t["data"]["candidate_id"] not in present]

    return server.call("import tasks", send, before_retry=drop_arrived) if pending else 0


def review_push_job(
    out_dir: Path,
    project: str,
    server: LabelStudioServer,
    routing: RoutingSettings = DEFAULT_ROUTING,
    chunk_size: int = 200,
) -> dict:
    """Push the routed candidates of ``out_dir`` as tasks; rerunning never duplicates a task.

    The run folder and the project are locked for the push: two pushes never race.
    """
    with _locked(out_dir, project, server, "parallelner review push"):
        return _push(out_dir, project, server, routing, chunk_size)


@contextmanager
def _locked(out_dir: Path, project: str, server: LabelStudioServer, command: str):
    """The run folder's lock and the project's (one per Label Studio URL and title, on this
    machine), in that order."""
    project_dir = project_lock_dir(server.url, project)
    what = f"Label Studio project {project!r} at {server.url}"
    with hold(out_dir, command), hold(project_dir, command, what=what):
        yield


def _push(
    out_dir: Path,
    project: str,
    server: LabelStudioServer,
    routing: RoutingSettings,
    chunk_size: int,
) -> dict:
    store = CandidateStore(out_dir)
    if not store.parts():
        raise ConfigError(f"{out_dir}: no candidates/part-*.parquet to push")
    store.check_unique()
    project_id = server.ensure_project(project, labeling_config(_labels(store)))
    existing = _existing_ids(server, project_id)
    counts: Counter[str] = Counter()
    chunk: list[dict] = []
    for c in store.read():
        route = route_for(
            c, routing.policy, routing.low_confidence, routing.audit_rate, routing.seed
        )
        if route is None:
            counts["not_routed" if c.status == "passed" else f"not_pushed_{c.status}"] += 1
            continue
        counts[f"route_{route}"] += 1
        if c.id in existing:
            counts["already_pushed"] += 1
            continue
        chunk.append(task_for(c, route))
        if len(chunk) >= chunk_size:
            counts["pushed"] += _import_chunk(server, project_id, chunk)
            chunk = []
    counts["pushed"] += _import_chunk(server, project_id, chunk)
    result = {
        "project": project,
        "project_id": project_id,
        "url": server.url,
        "routing": routing.__dict__,
        "counts": dict(sorted(counts.items())),
    }
    _write_json(_review_dir(out_dir) / "push.json", result)
    return result


def review_pull_job(out_dir: Path, project: str, server: LabelStudioServer) -> dict:
    """Read finished annotations back into ``DIR/review/decisions.parquet``."""
    with _locked(out_dir, project, server, "parallelner review pull"):
        return _pull(out_dir, project, server)


def _pull(out_dir: Path, project: str, server: LabelStudioServer) -> dict:
    push = read_push(out_dir)
    project_id = push.get("project_id") if push.get("project") == project else None
    if project_id is None:
        found = server.call("list projects", lambda: list(server.sdk.projects.list(title=project)))
        ids = [p.id for p in found if p.title == project]
        if not ids:
            raise ConfigError(f"no Label Studio project {project!r} at {server.url}")
        project_id = ids[0]
    users = server.users()
    known = set(CandidateStore(out_dir).table(["id"]).column("id").to_pylist())
    decisions, tasks = [], 0
    for task in server.tasks(project_id):
        tasks += 1
        decision = decide(task, users)
        if decision is not None and decision.id in known:
            decisions.append(decision)
    rows = [decision_to_row(d) for d in sorted(decisions, key=lambda d: d.id)]
    table = pa.Table.from_pylist(rows, schema=DECISION_SCHEMA)
    write_table_atomically(table, _review_dir(out_dir) / "decisions.parquet", compression="zstd")
    counts = Counter(d.review_status for d in decisions)
    return {
        "project": project,
        "tasks": tasks,
        "finished": len(decisions),
        "pending": tasks - len(decisions),
        "by_status": dict(counts),
        "conflicts": sum(d.conflict for d in decisions),
    }


def review_progress(push: dict, pull: dict) -> dict[str, object]:
    """Where review stands after a push and a pull: the project's URL, tasks decided and
    pending, and the passed pairs left out of review (exported as auto-accepted)."""
    counts = push.get("counts", {})
    return {
        "project": push.get("project"),
        "url": f"{push.get('url')}/projects/{push.get('project_id')}",
        "tasks": pull["tasks"],
        "decided": pull["finished"],
        "by_status": pull["by_status"],
        "pending": pull["pending"],
        "left_out": counts.get("not_routed", 0),
    }


def progress_line(p: dict) -> str:
    """One line for people: what the review holds and what that means for the export."""
    from parallelner.run.report import phrase

    return (
        f"review: project {p['project']!r} ({p['url']}): {p['tasks']} tasks, {p['decided']} "
        f"decided ({phrase(p['by_status'])}), {p['pending']} pending (not exported until "
        f"decided); {p['left_out']} passed pairs not routed to review (exported as "
        "auto-accepted)"
    )


def push_sentence(result: dict) -> str:
    """What a push did, in words, with the project's URL."""
    c = result["counts"]
    routing = result["routing"]
    routed = {
        f"below confidence {routing['low_confidence']:g}": c.get("route_low_confidence", 0),
        f"the audit sample ({routing['audit_rate']:.0%} of the rest)": c.get("route_audit", 0),
        "all (--routing all)": c.get("route_all", 0),
    }
    why = ", ".join(f"{n} {what}" for what, n in routed.items() if n) or "none routed"
    not_pushed = {
        k.removeprefix("not_pushed_"): n for k, n in c.items() if k.startswith("not_pushed_")
    }
    url = f"{result['url']}/projects/{result['project_id']}"
    line = (
        f"pushed {c.get('pushed', 0)} pairs to project {result['project']!r} ({url}): {why}"
        f"; {c.get('already_pushed', 0)} were there already. {c.get('not_routed', 0)} passed "
        "pairs not routed to review are exported as auto-accepted"
    )
    if not_pushed:
        line += "; " + ", ".join(f"{n} {status}" for status, n in not_pushed.items())
        line += " pairs are not reviewed"
    return line + "."


def read_push(out_dir: Path) -> dict:
    path = out_dir / "review" / "push.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def read_decisions(out_dir: Path) -> pa.Table:
    """The decisions table (empty when nothing was pulled yet)."""
    path = out_dir / "review" / "decisions.parquet"
    return pq.read_table(path) if path.exists() else DECISION_SCHEMA.empty_table()


def review_report_job(out_dir: Path) -> dict:
    """Review progress, annotator effort, and the audit estimate of auto-accepted precision."""
    push = read_push(out_dir)
    routing = RoutingSettings(**push["routing"]) if push else RoutingSettings()
    decisions = read_decisions(out_dir).to_pylist()
    decided = {d["id"]: d for d in decisions}
    rows = CandidateStore(out_dir).table(["id", "status", "confidence"]).to_pylist()
    passed = [r for r in rows if r["status"] == "passed"]
    high = [
        r
        for r in passed
        if r["confidence"] is not None and r["confidence"] >= routing.low_confidence
    ]
    audited = [
        decided[r["id"]] for r in high if r["id"] in decided and decided[r["id"]]["route"] == AUDIT
    ]
    # the count export takes as auto-accepted: passed pairs routed nowhere (when something was
    # pushed), undecided; pairs routed to review but not decided yet are pending, said apart
    routes = {
        r["id"]: route_of(r["id"], r["status"], r["confidence"], routing.policy,
                          routing.low_confidence, routing.audit_rate, routing.seed)
        if push else None
        for r in passed
    }  # fmt: skip
    auto_accepted = sum(1 for r in passed if r["id"] not in decided and routes[r["id"]] is None)
    pending = Counter(route for i, route in routes.items() if route and i not in decided)
    report = {
        "routing": routing.__dict__,
        "candidates": len(rows),
        "passed": len(passed),
        "pushed": push.get("counts", {}),
        "reviewed": len(decisions),
        "by_status": dict(Counter(d["review_status"] for d in decisions)),
        "by_route": dict(Counter(d["route"] for d in decisions)),
        "by_reviewer": dict(Counter(r for d in decisions for r in d["reviewer"].split(","))),
        "discard_reasons": dict(
            Counter(d["review_reason"] for d in decisions if d["review_reason"])
        ),
        "conflicts": sum(d["conflict"] for d in decisions),
        "auto_accepted": auto_accepted,
        "pending": dict(sorted(pending.items())),
        "audit": precision_estimate(
            sum(d["review_status"] == "approved" for d in audited), len(audited), auto_accepted
        ),
    }
    _write_json(_review_dir(out_dir) / "report.json", report)
    return report


_DECISION_COLUMNS = [f for f in DECISION_SCHEMA if f.name != "id"]


def iter_candidates_with_decisions(out_dir: Path) -> Iterator[pa.Table]:
    """Each candidate part with the decision columns added (null where not reviewed).

    Decisions are few next to candidates, so they are held in memory; the parts stream.
    """
    decisions = {row["id"]: row for row in read_decisions(out_dir).to_pylist()}
    for part in CandidateStore(out_dir).parts():
        table = pq.read_table(part)
        rows = [decisions.get(i) for i in table.column("id").to_pylist()]
        for f in _DECISION_COLUMNS:
            values = [None if r is None else r[f.name] for r in rows]
            table = table.append_column(
                pa.field(f.name, f.type, nullable=True), pa.array(values, f.type)
            )
        yield table


def candidates_with_decisions(out_dir: Path) -> pa.Table:
    """All candidates with their decision columns, as one table (small corpora, tests)."""
    tables = list(iter_candidates_with_decisions(out_dir))
    return pa.concat_tables(tables) if tables else pa.table({})
