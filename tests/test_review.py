"""Review against a real Label Studio: push, annotate through the REST API, pull, report."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import settings_for

from parallelner.errors import ReviewServerError
from parallelner.records import Candidate, Span
from parallelner.review.audit import wilson_interval
from parallelner.review.jobs import (
    RoutingSettings,
    candidates_with_decisions,
    progress_line,
    push_sentence,
    read_decisions,
    review_progress,
    review_pull_job,
    review_push_job,
    review_report_job,
)
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.jobs import translate_job

EMOJI_SRC = "🎉 John Smith flew to Beijing 🇨🇳 today."
EMOJI_TGT = "🎉约翰·史密斯今天飞往北京🇨🇳。"


def _emoji_candidate() -> Candidate:
    src = (Span(2, 12, "PER", "John Smith"), Span(21, 28, "LOC", "Beijing"))
    a, b = EMOJI_TGT.index("约翰·史密斯"), EMOJI_TGT.index("北京")
    tgt = (Span(a, a + 6, "PER", "约翰·史密斯"), Span(b, b + 2, "LOC", "北京"))
    entities = [{"id": 1, "text": "约翰·史密斯"}, {"id": 2, "text": "北京"}]
    reply = json.dumps({"translation": EMOJI_TGT, "entities": entities}, ensure_ascii=False)
    return Candidate(
        "emoji-1:en-zh",
        "emoji-1",
        "en",
        "zh",
        EMOJI_SRC,
        EMOJI_TGT,
        src,
        tgt,
        "passed",
        (),
        1,
        "reference",
        "joint-v1",
        10,
        10,
        reply,
        0.97,
    )


@pytest.fixture(scope="module")
def fifty(tmp_path_factory, _server, sample_dir) -> Path:
    """A run folder with 50 real passed candidates (49 UNER PUD EN->ZH + 1 with emoji)."""
    _server.admin("reset")
    full = tmp_path_factory.mktemp("full")
    translate_job([sample_dir / "en-pud.iob2"], full, "en", "zh", settings_for(_server))
    passed = [c for c in CandidateStore(full).read() if c.status == "passed"]
    out = tmp_path_factory.mktemp("fifty")
    with CandidateStore(out).writer(rows_per_part=20) as writer:
        writer.add_all(sorted(passed, key=lambda c: c.id)[:49] + [_emoji_candidate()])
    return out


def _tasks(server, project_id: int) -> dict[str, dict]:
    return {t["data"]["candidate_id"]: t for t in server.tasks(project_id)}


def _spans(task: dict) -> list[dict]:
    """The labelled regions of a task's prediction (its relations left out)."""
    return [r for r in task["predictions"][0]["result"] if r["type"] == "labels"]


def _annotate(ls, task, decision, *, user=None, regions=None, reason=None, corrected=None):
    result = list(regions if regions is not None else task["predictions"][0]["result"])
    result.append(
        {
            "from_name": "decision",
            "to_name": "tgt",
            "type": "choices",
            "value": {"choices": [decision]},
        }
    )
    if reason:
        result.append(
            {
                "from_name": "reject_reason",
                "to_name": "tgt",
                "type": "choices",
                "value": {"choices": [reason]},
            }
        )
    if corrected:
        result.append(
            {
                "from_name": "corrected_translation",
                "to_name": "tgt",
                "type": "textarea",
                "value": {"text": [corrected]},
            }
        )
    kwargs = {"completed_by": user} if user else {}
    ls.sdk.annotations.create(id=task["id"], result=result, was_cancelled=False, **kwargs)


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.glob("candidates/*.parquet")):
        h.update(p.read_bytes())
    return h.hexdigest()


def test_push_annotate_pull_and_every_decision(label_studio, fifty):
    ls = label_studio.server()
    before = _digest(fifty)
    pushed = review_push_job(fifty, "decisions", ls, RoutingSettings(policy="all"), chunk_size=15)
    assert pushed["counts"]["pushed"] == 50
    again = review_push_job(fifty, "decisions", ls, RoutingSettings(policy="all"))
    assert again["counts"]["pushed"] == 0 and again["counts"]["already_pushed"] == 50
    tasks = _tasks(ls, pushed["project_id"])
    assert (
        len(tasks) == 50 and len(ls.call("t", lambda: list(ls.tasks(pushed["project_id"])))) == 50
    )

    # Offsets went in unchanged, CJK and emoji included.
    emoji = tasks["emoji-1:en-zh"]
    regions = {r["id"]: r["value"] for r in _spans(emoji)}
    for rid, v in regions.items():
        text = EMOJI_TGT if rid.startswith("tgt") else EMOJI_SRC
        assert text[v["start"] : v["end"]] == v["text"]
    # The pairing is shown: an arrow from each source entity to its projection, a table.
    links = [r for r in emoji["predictions"][0]["result"] if r["type"] == "relation"]
    assert {(r["from_id"], r["to_id"]) for r in links} == {
        (rid.replace("tgt", "src"), rid) for rid in regions if rid.startswith("tgt")
    }
    assert list(emoji["data"]["pairing"].values()) == [
        v["text"] for rid, v in sorted(regions.items()) if rid.startswith("tgt")
    ]

    ids = sorted(
        k
        for k in tasks
        if k != "emoji-1:en-zh" and any(r["id"].startswith("tgt") for r in _spans(tasks[k]))
    )
    approve, reject, fix_span, fix_text, bad_text, disagree, both = ids[:7]
    second = ls.sdk.users.create(email="annotator2@example.com", username="annotator2").id
    _annotate(ls, tasks[approve], "approve")
    _annotate(ls, tasks[reject], "reject", reason="mistranslation")
    # Fix a span: the first target entity gets another label.
    regions = [dict(r, value=dict(r["value"])) for r in _spans(tasks[fix_span])]
    first_tgt = next(r for r in regions if r["id"].startswith("tgt"))
    new_label = "ORG" if first_tgt["value"]["labels"] != ["ORG"] else "LOC"
    first_tgt["value"]["labels"] = [new_label]
    _annotate(ls, tasks[fix_span], "approve", regions=regions)
    corrected = tasks[fix_text]["data"]["tgt_text"] + "（已校對）"
    _annotate(ls, tasks[fix_text], "approve", corrected=corrected)
    _annotate(ls, tasks[bad_text], "approve", corrected="一句沒有任何實體的話。")
    _annotate(ls, tasks[disagree], "approve")
    _annotate(ls, tasks[disagree], "reject", user=second, reason="entity_wrong")
    _annotate(ls, tasks[both], "approve")
    _annotate(ls, tasks[both], "approve", user=second)
    # The emoji task: the browser sent UTF-16 offsets for a corrected span.
    start = EMOJI_TGT.index("北京")
    utf16 = len(EMOJI_TGT[:start].encode("utf-16-le")) // 2
    moved = {"start": utf16, "end": utf16 + 2, "text": "北京", "labels": ["ORG"]}
    emoji_regions = [r for r in _spans(emoji) if r["id"] != "tgt-1"] + [
        {
            "id": "tgt-1",
            "from_name": "tgt_label",
            "to_name": "tgt",
            "type": "labels",
            "value": moved,
        }
    ]
    _annotate(ls, emoji, "approve", regions=emoji_regions)

    pulled = review_pull_job(fifty, "decisions", ls)
    assert pulled["finished"] == 8 and pulled["pending"] == 42 and pulled["conflicts"] == 1
    d = {row["id"]: row for row in read_decisions(fifty).to_pylist()}
    assert d[approve]["review_status"] == "approved" and d[approve]["review_tgt_text"] is None
    assert d[reject]["review_status"] == "discarded"
    assert d[reject]["review_reason"] == "mistranslation"
    assert d[fix_span]["review_status"] == "corrected"
    assert new_label in [s["label"] for s in d[fix_span]["review_tgt_entities"]]
    assert (
        d[fix_text]["review_status"] == "corrected" and d[fix_text]["review_tgt_text"] == corrected
    )
    for s in d[fix_text]["review_tgt_entities"]:
        assert corrected[s["start"] : s["end"]] == s["text"]
    assert d[bad_text]["review_status"] == "discarded"
    assert d[bad_text]["review_reason"] == "invalid_correction"
    assert d[disagree]["review_status"] == "discarded" and d[disagree]["conflict"]
    assert d[disagree]["reviewer"] == "admin@parallelner.local,annotator2@example.com"
    assert d[both]["review_status"] == "approved" and d[both]["annotations"] == 2
    e = d["emoji-1:en-zh"]
    assert e["review_status"] == "corrected"
    assert {(s["start"], s["end"], s["label"], s["text"]) for s in e["review_tgt_entities"]} == {
        (EMOJI_TGT.index("约翰"), EMOJI_TGT.index("约翰") + 6, "PER", "约翰·史密斯"),
        (start, start + 2, "ORG", "北京"),
    }
    for row in d.values():
        assert row["reviewed_at"] and row["reviewer"]

    # Decisions are columns on the candidates; the candidate parts are not rewritten.
    joined = candidates_with_decisions(fifty).to_pylist()
    assert len(joined) == 50 and _digest(fifty) == before
    by_id = {r["id"]: r for r in joined}
    assert by_id[reject]["review_status"] == "discarded" and by_id[ids[10]]["review_status"] is None


def test_audit_estimate_from_a_routed_push(label_studio, fifty):
    ls = label_studio.server()
    routing = RoutingSettings(policy="routed", low_confidence=0.9, audit_rate=0.5, seed=7)
    pushed = review_push_job(fifty, "audit", ls, routing)
    counts = pushed["counts"]
    assert counts["pushed"] == counts.get("route_audit", 0) + counts.get("route_low_confidence", 0)
    assert counts["route_audit"] >= 5
    audit_tasks = [
        t for t in _tasks(ls, pushed["project_id"]).values() if t["data"]["route"] == "audit"
    ]
    for k, task in enumerate(audit_tasks):
        _annotate(ls, task, "reject" if k == 0 else "approve", reason="other" if k == 0 else None)
    pulled = review_pull_job(fifty, "audit", ls)
    n = len(audit_tasks)
    progress = review_progress(pushed, pulled)  # what a flow logs and publishes
    assert progress["tasks"] == counts["pushed"] and progress["decided"] == n
    assert progress["pending"] == counts["pushed"] - n
    assert progress["left_out"] == counts["not_routed"] > 0
    assert progress["url"] == f"{label_studio.url}/projects/{pushed['project_id']}"
    line = progress_line(progress)
    assert f"{n} decided" in line and "not exported until decided" in line
    report = review_report_job(fifty)
    audit = report["audit"]
    assert audit["audited_reviewed"] == n and audit["audited_approved"] == n - 1
    low, high = wilson_interval(n - 1, n)
    assert audit["ci95"] == [round(low, 4), round(high, 4)] and audit["precision"] == round(
        (n - 1) / n, 4
    )
    assert audit["auto_accepted"] == report["passed"] - counts["route_low_confidence"] - n
    # one count of auto-accepted pairs everywhere: what export takes without review
    assert report["auto_accepted"] == audit["auto_accepted"] == counts["not_routed"]
    assert report["pending"] == {"low_confidence": counts["route_low_confidence"]}
    said = push_sentence(pushed)
    assert said.startswith(
        f"pushed {counts['pushed']} pairs to project 'audit' ({progress['url']})"
    )
    assert f"{counts['not_routed']} passed pairs not routed to review" in said and "{" not in said
    assert json.loads((fifty / "review" / "report.json").read_text())["audit"] == audit


def test_server_killed_mid_push_then_rerun_completes_without_duplicates(label_studio, fifty):
    ls = label_studio.server(retry_seconds=3)
    project_id = ls.ensure_project("crash", _config(fifty))
    errors: list[BaseException] = []

    def push() -> None:
        try:
            review_push_job(fifty, "crash", ls, RoutingSettings(policy="all"), chunk_size=2)
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            errors.append(e)

    thread = threading.Thread(target=push)
    thread.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(ls.tasks(project_id))) < 6:
        time.sleep(0.05)
    label_studio.kill()
    thread.join(timeout=120)
    assert errors and isinstance(errors[0], ReviewServerError)
    assert "rerun" in str(errors[0]) and label_studio.token not in str(errors[0])
    label_studio.script("start")
    ls = label_studio.server()
    partial = len(list(ls.tasks(project_id)))
    assert 6 <= partial < 50
    review_push_job(fifty, "crash", ls, RoutingSettings(policy="all"))
    ids = [t["data"]["candidate_id"] for t in ls.tasks(project_id)]
    assert len(ids) == len(set(ids)) == 50


def _config(folder: Path) -> str:
    from parallelner.review.jobs import _labels
    from parallelner.review.tasks import labeling_config

    return labeling_config(_labels(CandidateStore(folder)))


def test_bad_token_names_the_variable_not_the_token(label_studio, fifty):
    from pydantic import SecretStr

    from parallelner.errors import ConfigError
    from parallelner.review.label_studio import LabelStudioServer

    bad = LabelStudioServer(label_studio.url, SecretStr("not-the-token-123"), retry_seconds=2)
    with pytest.raises(ConfigError) as info:
        review_push_job(fifty, "decisions", bad)
    assert "LABEL_STUDIO_API_KEY" in str(info.value) and "not-the-token-123" not in str(info.value)


def test_candidate_with_a_span_that_does_not_match_is_refused(label_studio, tmp_path):
    from parallelner.errors import InputError
    from parallelner.review.tasks import task_for

    good = _emoji_candidate()
    broken = replace(good, tgt_entities=(good.tgt_entities[0],) + (None,))
    object.__setattr__(broken, "tgt_entities", (Span(0, 2, "PER", "约翰"), None))
    with pytest.raises(InputError, match="emoji-1:en-zh"):
        task_for(broken, "all")


def test_label_studio_data_holding_the_token_is_private(label_studio):
    # The SQLite database holds the API token: nobody but this user may read the folder.
    assert label_studio.data.stat().st_mode & 0o777 == 0o700
    files = [p for p in label_studio.data.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite3" for p in files)
    for path in files:
        assert path.stat().st_mode & 0o077 == 0, (path, oct(path.stat().st_mode))


def test_source_is_read_only_and_a_reject_needs_its_reason():
    """What the browser check of `make screenshots` confirms in Label Studio, pinned in the
    config and the tasks: source regions locked and not selectable, the reason required."""
    from xml.etree import ElementTree

    from parallelner.review.tasks import labeling_config, task_for

    root = ElementTree.fromstring(labeling_config(["LOC", "PER"]))
    src = next(t for t in root.iter("Text") if t.get("name") == "src")
    assert src.get("selectionEnabled") == "false"
    reason = next(c for c in root.iter("Choices") if c.get("name") == "reject_reason")
    assert reason.get("required") == "true" and "reason" in reason.get("requiredMessage", "")
    style = next(root.iter("Style")).text or ""
    assert "attr(data-label)" in style  # labels as text on the spans, not only colours
    task = task_for(_emoji_candidate(), "all")
    regions = [r for r in task["predictions"][0]["result"] if r["type"] == "labels"]
    assert {r["from_name"] for r in regions if r.get("readonly")} == {"src_label"}
    assert all(r.get("readonly") for r in regions if r["from_name"] == "src_label")
