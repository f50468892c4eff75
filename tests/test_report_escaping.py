"""The report page and the corpus card trust nothing they read: a hostile review/report.json
(on a shared file system every node can write it) renders as text or not at all, never as
markup, never as a traceback; the report's matplotlib caches stay out of the user's home."""

from __future__ import annotations

import json
import os

import pytest
from conftest import cli, translate

from parallelner.export.card import md

EVIL = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, _server, sample_dir):
    _server.admin("reset")
    out = tmp_path_factory.mktemp("run")
    assert (
        translate(sample_dir / "en-pud.iob2", out, _server.base_url, "--limit", "12").returncode
        == 0
    )
    return out


@pytest.mark.parametrize(
    "review",
    [
        {"reviewed": EVIL, "passed": 3, "conflicts": 0, "by_status": {}},
        {"reviewed": 1, "passed": 3, "conflicts": EVIL, "by_status": {EVIL: 1}},
        {"reviewed": 1, "passed": 3, "conflicts": 0, "by_status": {EVIL: 1},
         "audit": {"precision": EVIL, "ci95": [EVIL, 1], "audited_approved": EVIL}},
        {"reviewed": 1, "passed": 3, "conflicts": 0, "by_status": {},
         "audit": {"precision": 0.9, "ci95": [0.5, 1.0], "audited_approved": 3,
                   "audited_reviewed": EVIL, "auto_accepted": 4,
                   "expected_bad_pairs_ci95": [0, 2]}},
    ],
    ids=["reviewed", "conflicts", "audit-strings", "audit-one-string"],
)  # fmt: skip
def test_a_hostile_review_report_never_becomes_markup(run_dir, tmp_path, review):
    (run_dir / "review").mkdir(exist_ok=True)
    (run_dir / "review" / "report.json").write_text(json.dumps(review))
    page = tmp_path / "report.html"
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_CACHE_HOME": "", "XDG_CONFIG_HOME": ""}
    env = {k: v for k, v in env.items() if v} | {"MPLCONFIGDIR": ""}
    r = cli("report", str(run_dir), "--html", str(page), env=env)
    assert r.returncode == 0, r.stderr
    text = page.read_text()
    assert "<script>" not in text and "Traceback" not in r.stderr
    assert not any(home.rglob("*")), list(home.rglob("*"))  # no cache in the user's home
    corpus = tmp_path / "corpus"
    e = cli("export", str(run_dir), "--out", str(corpus))
    assert e.returncode == 0, e.stderr
    card = (corpus / "README.md").read_text()
    assert "<script>" not in card


def test_markdown_values_are_literal():
    assert md("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert\\(1\\)&gt;"
    assert md("PER | ORG\n# heading") == "PER \\| ORG \\# heading"
    assert os.linesep not in md("a\nb")
