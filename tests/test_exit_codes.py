"""Exit codes as documented (2: a mistake in the command, its files or settings), and a command
that refuses creates nothing: no folder, no report, no temporary file."""

from __future__ import annotations

import argparse

import pytest
from conftest import cli, one_line

from parallelner.cli import _parser

SAMPLE = "__sample__"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["translate", SAMPLE, "--src-lang", "en", "--tgt-lang", "zh", "--out", "afile",
          "--model", "m"], "--out afile: a file, not a folder"),
        (["translate", "nope.iob2", "--src-lang", "en", "--tgt-lang", "zh", "--out", "o",
          "--model", "m"], "nope.iob2: no such file (INPUT)"),
        (["inspect", "nope.iob2", "--lang", "en"], "nope.iob2: no such file (FILE)"),
        (["export", "runs/nope", "--out", "corpus"], "runs/nope: no such folder: not a run folder"),
        (["export", "afile", "--out", "corpus"], "afile: a file: not a run folder"),
        (["evaluate", "corpus", "--gold", "nope.jsonl"], "nope.jsonl: no such file (--gold)"),
        (["evaluate", "empty", "--gold", "afile"], "empty: no manifest.json"),
        (["filter", "empty"], "empty: no candidates/ folder"),
        (["review", "report", "runs/nope"], "runs/nope: no such folder"),
        (["report", "empty"], "empty: no candidates/ folder"),
    ],
    ids=["out-is-a-file", "missing-input", "inspect-missing", "export-no-run",
         "export-a-file", "evaluate-no-gold", "evaluate-not-a-corpus", "filter-not-a-run",
         "review-report-no-run", "report-not-a-run"],
)  # fmt: skip
def test_a_mistake_exits_2_with_one_line_and_creates_nothing(tmp_path, sample_dir, args, says):
    (tmp_path / "afile").write_text("a user's file")
    (tmp_path / "empty").mkdir()
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    args = [str(sample_dir / "en-pud.iob2") if a == SAMPLE else a for a in args]
    r = cli(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert says in one_line(r)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_report_into_a_folder_is_refused_and_leaves_no_temporary_file(ref, sample_dir, tmp_path):
    from conftest import translate

    out = tmp_path / "out"
    assert translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "3").returncode == 0
    (tmp_path / "pages").mkdir()
    r = cli("report", str(out), "--html", str(tmp_path / "pages"))
    assert r.returncode == 2 and "a folder; name the page's file" in one_line(r)
    assert list((tmp_path / "pages").iterdir()) == []
    assert not [p for p in out.rglob("*") if p.name.startswith(".parallelner-tmp-")]


def test_every_argument_has_help():
    def missing(parser: argparse.ArgumentParser, name: str):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, p in action.choices.items():
                    yield from missing(p, f"{name} {sub}")
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                yield f"{name} {action.option_strings or action.dest}"

    assert list(missing(_parser(), "parallelner")) == []
    assert cli("--version").stdout.startswith("parallelner ")


def test_filter_keeps_the_folders_thresholds_and_says_when_they_change(ref, sample_dir, tmp_path):
    import json

    from conftest import translate

    out = tmp_path / "out"
    assert translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "12").returncode == 0

    def kept() -> float:
        report = json.loads((out / "report.json").read_text())
        return report["filters"]["settings"]["untranslated_overlap"]

    def said(*args: str) -> str:
        r = cli("filter", str(out), *args)
        assert r.returncode == 0, r.stderr
        return " ".join(r.stdout.split())  # the terminal's line breaks aside

    assert "untranslated_overlap 0.5 -> 0.4" in said("--untranslated-overlap", "0.4")
    assert "the folder's own" in said() and kept() == 0.4  # not back to the default 0.5
    assert "untranslated_overlap 0.4 -> 0.3" in said("--untranslated-overlap", "0.3")
    assert kept() == 0.3


def test_outputs_are_words_not_python_reprs(ref, sample_dir, tmp_path):
    from conftest import translate

    out, corpus = tmp_path / "out", tmp_path / "corpus"
    assert translate(sample_dir / "en-pud.iob2", out, ref.base_url).returncode == 0
    exported = cli("export", str(out), "--out", str(corpus))
    said = " ".join(exported.stdout.split())
    assert "taken: 91 accepted without review; left out: 9 rejected" in said
    evaluated = cli("evaluate", str(corpus), "--gold", str(sample_dir / "pud-pairs.jsonl"))
    assert "missing from the corpus: en-zh 9.0%" in " ".join(evaluated.stdout.split())
    for r in (exported, evaluated):
        assert r.returncode == 0 and "{" not in r.stdout and "'" not in r.stdout, r.stdout
