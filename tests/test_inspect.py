"""``parallelner inspect``: reads as translate would, shows what it read, sends nothing."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import cli

DATA = Path(__file__).parent / "data"
GERMEVAL = DATA / "germeval2014-dev-head.tsv"


def test_inspect_shows_format_counts_normalisation_and_marked_sentences():
    r = cli("inspect", str(DATA / "wnut17-train-head.conll"), "--lang", "en")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    squeezed = [" ".join(line.split()) for line in lines]
    assert squeezed[1] == "format conll, tag scheme IOB2, columns token=0 tag=1 (from 0)"
    assert squeezed[2] == "samples 13 (190 tokens), bad records 0"
    assert lines[3].startswith("  entities    7: location 2, corporation 1")
    assert "lines beginning with '#' read as tokens (a tag in the tag column): 1" in lines[4]
    assert lines[5] == "first sentences:"
    assert "[Empire State Building]location = [ESB]location." in lines[6]
    assert len(lines) == 9


def test_inspect_json_reports_what_was_normalised():
    r = cli("inspect", str(DATA / "weibo-2nd-dev-head.conll"), "--lang", "zh", "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    (report,) = got["files"]
    assert report["samples"] == got["samples"] == 1
    assert any("position digit" in k for k in report["normalised"])
    text = got["first"][0]["text"]
    assert not any(ch.isdigit() for ch in text)
    for e in got["first"][0]["entities"]:
        assert text[e["start"] : e["end"]] == e["text"]


def test_an_ambiguous_file_exits_2_with_one_line_naming_the_flag():
    r = cli("inspect", str(GERMEVAL), "--lang", "de")
    assert r.returncode == 2
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith(f"{GERMEVAL}:2: 2 columns hold tags")
    assert "--columns token=1,tag=2 (or tag=3)" in line
    assert r.stdout == ""


def test_dump_converts_a_corpus_the_jsonl_reader_reads_back_alike(tmp_path):
    dump = tmp_path / "germeval.jsonl"
    first = cli(
        "inspect", str(GERMEVAL), "--lang", "de", "--columns", "token=1,tag=2",
        "--dump", str(dump), "--json",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    back = cli("inspect", str(dump), "--lang", "de", "--format", "jsonl", "--json")
    assert back.returncode == 0, back.stderr
    a, b = json.loads(first.stdout), json.loads(back.stdout)
    assert a["samples"] == b["samples"] == 11
    assert a["entities"] == b["entities"] and sum(a["entities"].values()) == 18
    assert a["first"] == b["first"]
    rows = [json.loads(line) for line in dump.read_text("utf-8").splitlines()]
    assert len(rows) == 11 and set(rows[0]) == {"id", "lang", "text", "entities"}


def test_the_toml_read_table_applies_as_the_flags_do(tmp_path):
    config = tmp_path / "p.toml"
    config.write_text("[read]\ncolumns = { token = 1, tag = 3 }\n", "utf-8")
    r = cli("inspect", str(GERMEVAL), "--lang", "de", "--config", str(config), "--json")
    assert r.returncode == 0, r.stderr
    assert sum(json.loads(r.stdout)["entities"].values()) == 2  # the nested column
    env = {"PARALLELNER_READ_COLUMNS": "token=1,tag=2"}
    r = cli("inspect", str(GERMEVAL), "--lang", "de", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert sum(json.loads(r.stdout)["entities"].values()) == 18
