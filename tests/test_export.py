"""Export: shards trainers load in one line, crash safety, stable bytes, AlignXIE, evaluate."""

from __future__ import annotations

import ast
import json

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from conftest import settings_for

from parallelner.export import corpus as corpus_module
from parallelner.export.corpus import export_job
from parallelner.export.selection import ExportError
from parallelner.records import DECISION_SCHEMA
from parallelner.report.evaluate import evaluate
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.jobs import translate_job


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, _server, sample_dir):
    """The bundled sample translated EN->ZH and ZH->EN (no review: auto-accepted)."""
    _server.admin("reset")
    out = tmp_path_factory.mktemp("run")
    for src, tgt in (("en", "zh"), ("zh", "en")):
        translate_job([sample_dir / f"{src}-pud.iob2"], out, src, tgt, settings_for(_server))
    return out


def _passed(run_dir) -> dict[str, object]:
    return {c.id: c for c in CandidateStore(run_dir).read() if c.status == "passed"}


def test_shards_load_with_pandas_pyarrow_and_datasets(run_dir, tmp_path):
    manifest = export_job(run_dir, tmp_path / "corpus", shard_rows=40)
    passed = _passed(run_dir)
    assert sum(manifest["counts"].values()) == len(passed) == 183
    assert manifest["version"] == "v0001"
    en_zh = [s["rows"] for s in manifest["shards"] if s["path"].startswith("v0001/en-zh/")]
    assert en_zh == [40, 40, 11]

    df = pd.read_parquet(tmp_path / "corpus" / "v0001" / "en-zh")
    assert len(df) == manifest["counts"]["en-zh"]
    row = next(r for _, r in df.iterrows() if len(r["tgt_entities"]) >= 2)
    c = passed[row["id"]]
    assert row["tgt_text"] == c.tgt_text and row["src_text"] == c.src_text
    in_text_order = sorted(c.tgt_entities, key=lambda s: (s.start, s.end))  # exported in text order
    assert [e["text"] for e in row["tgt_entities"]] == [s.text for s in in_text_order]
    assert len(row["tgt_tokens"]) == len(row["tgt_tags"]) and "B-" in "".join(row["tgt_tags"])

    files = [str(tmp_path / "corpus" / s["path"]) for s in manifest["shards"]]
    table = ds.dataset(files, format="parquet").to_table()
    assert table.num_rows == 183 and set(table.column("id").to_pylist()) == set(passed)
    every = ds.dataset(tmp_path / "corpus" / "v0001", format="parquet").to_table()
    assert every.num_rows == 183  # the version folder holds exactly the manifest's shards

    from datasets import load_dataset

    hf = load_dataset("parquet", data_files={"train": files}, cache_dir=str(tmp_path / "hf"))
    train = hf["train"]
    assert train.num_rows == 183
    for row in train:  # every span of every row, as datasets hands it over
        assert row["tgt_text"] == passed[row["id"]].tgt_text
        for e in row["tgt_entities"]:
            assert row["tgt_text"][e["start"] : e["end"]] == e["text"]
    assert sum(len(row["tgt_entities"]) for row in train) > 150
    card = (tmp_path / "corpus" / "README.md").read_text()
    assert "load_dataset" in card and "pd.read_parquet" in card


def test_manifest_names_checksums_sources_and_counts(run_dir, tmp_path):
    manifest = export_job(run_dir, tmp_path / "c")
    on_disk = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert on_disk == manifest
    assert manifest["labels"] == ["LOC", "ORG", "PER"]
    assert manifest["models"] == {"reference": 183} and manifest["prompt_versions"] == {
        "joint-v1": 183
    }
    assert {f["direction"] for f in manifest["source_files"]} == {"en-zh", "zh-en"}
    assert all(len(f["sha256"]) == 64 for f in manifest["source_files"])
    assert manifest["filter_report"]["by_status"]["passed"] == 183
    # every entity of both sides, and none whose boundary fell inside a token of the text
    assert manifest["tokens"]["split_inside_a_token"] == 0 and manifest["tokens"]["entities"] > 300
    from parallelner.io.checksums import file_sha256

    for shard in manifest["shards"]:
        assert file_sha256(tmp_path / "c" / shard["path"]) == shard["sha256"]


def test_reexport_gives_byte_identical_shards(run_dir, tmp_path):
    a = export_job(run_dir, tmp_path / "a", shard_rows=30)
    b = export_job(run_dir, tmp_path / "b", shard_rows=30)
    assert [s["sha256"] for s in a["shards"]] == [s["sha256"] for s in b["shards"]]
    again = export_job(run_dir, tmp_path / "a", shard_rows=30)
    assert again["version"] == "v0002" and not (tmp_path / "a" / "v0001").exists()
    assert [(s["rows"], s["sha256"]) for s in again["shards"]] == [
        (s["rows"], s["sha256"]) for s in a["shards"]
    ]


def test_a_crash_mid_export_leaves_the_previous_corpus_whole(run_dir, tmp_path, monkeypatch):
    before = export_job(run_dir, tmp_path / "crash", shard_rows=40)
    real = corpus_module.select_rows

    def crashing(*args, **kwargs):
        for k, row in enumerate(real(*args, **kwargs)):
            if k == 75:
                raise RuntimeError("injected crash")
            yield row

    monkeypatch.setattr(corpus_module, "select_rows", crashing)
    with pytest.raises(RuntimeError, match="injected crash"):
        export_job(run_dir, tmp_path / "crash", shard_rows=30)
    assert json.loads((tmp_path / "crash" / "manifest.json").read_text()) == before
    assert sorted(p.name for p in (tmp_path / "crash").iterdir()) == [
        ".parallelner.lock", "README.md", "manifest.json", "v0001",
    ]  # fmt: skip
    on_disk = sorted((tmp_path / "crash" / "v0001").glob("*/*.parquet"))
    assert [str(p.relative_to(tmp_path / "crash")) for p in on_disk] == sorted(
        s["path"] for s in before["shards"]
    )


def test_a_corrected_span_that_no_longer_matches_is_refused_naming_the_candidate(run_dir, tmp_path):
    import shutil

    work = tmp_path / "run"
    shutil.copytree(run_dir, work)
    victim = sorted(_passed(run_dir))[3]
    row = {f.name: None for f in DECISION_SCHEMA}
    row.update(
        id=victim,
        review_status="corrected",
        reviewer="a@b",
        reviewed_at="2026-11-27",
        route="all",
        task_id=1,
        annotations=1,
        conflict=False,
        review_tgt_text="短句。",
        review_tgt_entities=[{"start": 0, "end": 2, "label": "PER", "text": "長句"}],
    )
    (work / "review").mkdir()
    pq.write_table(
        pa.Table.from_pylist([row], schema=DECISION_SCHEMA), work / "review" / "decisions.parquet"
    )
    with pytest.raises(ExportError, match=f"candidate {victim}"):
        export_job(work, tmp_path / "c")


KNOWCODER_PATTERN = r"\s*(\w+)\(\s*\"(.*?)\""  # convert/convert_ner.py's extract_from_string


def test_alignxie_records_are_knowcoders_layout_and_follow_the_class_map(run_dir, tmp_path):
    import re

    class_map = tmp_path / "classes.toml"
    class_map.write_text(
        '[PER]\nname = "Human"\nparent = "Person"\ndescription = "a person"\n'
        'examples = ["Barack Obama", "李白"]\n[ORG]\nname = "Organization"\n'
        'parent = "GroupOfHumans"\n'
    )
    manifest = export_job(run_dir, tmp_path / "ax", fmt="alignxie", class_map=class_map)
    lines = (tmp_path / "ax" / "v0001" / "en-zh" / "alignxie.jsonl").read_text().splitlines()
    records = [json.loads(x) for x in lines]
    assert len(records) == 91
    shard = tmp_path / "ax" / "v0001" / "en-zh" / "part-alignxie-00000.parquet"
    table = pq.read_table(shard).to_pylist()
    assert table == records
    passed = _passed(run_dir)
    for r in records:
        ast.parse(r["prompt"] + "\n" + r["completion"])  # valid Python
        prompt = r["prompt"]
        assert prompt.startswith("class Entity:\n\tdef __init__(self, name: str):")
        assert 'class Human(Person):\n\t"""\n\tDescription: a person.\n' in prompt
        assert "\tExamples: Barack Obama, 李白\n" in prompt and "class PER(" not in prompt
        assert '\n"""\nThis is an object-oriented programming task' in prompt
        c = passed[r["id"]]
        tree = ast.parse(r["completion"]).body[0]
        assert tree.targets[0].id == "results" and len(tree.value.elts) == len(c.tgt_entities)
        # KnowCoder's own parser reads every instance, whole
        found = re.findall(KNOWCODER_PATTERN, r["completion"], re.DOTALL)
        in_order = sorted(c.tgt_entities, key=lambda s: (s.start, s.end))  # exported in text order
        assert [text for _, text in found] == [s.text for s in in_order]
    first = next(r for r in records if r["id"] == "n01005024:en-zh")
    assert first["completion"] == (
        'results = [\n\tOrganization("喬治城商業改善會"),\n\tHuman("喬·斯頓雷"),\n]'
    )
    assert manifest["class_map"]["PER"]["name"] == "Human"


def test_a_quote_in_an_entity_is_read_whole_by_python_and_by_knowcoder():
    import re

    from parallelner.export.alignxie import DEFAULT_CLASSES, instances_code, py_str

    hostile = 'The "Big" Apple \\ x'
    assert ast.literal_eval(py_str(hostile)) == hostile
    code = instances_code([{"label": "ORG", "text": hostile}, {"label": "PER", "text": "Ann"}],
                          DEFAULT_CLASSES, "results")  # fmt: skip
    assert ast.literal_eval(ast.parse(code).body[0].value.elts[0].args[0]) == hostile
    found = re.findall(KNOWCODER_PATTERN, code, re.DOTALL)
    assert [name for name, _ in found] == ["Organization", "Human"]  # both read, none cut short
    assert found[0][1] == py_str(hostile)[1:-1]


def test_the_alignxie_cards_snippets_run_as_printed(run_dir, tmp_path, monkeypatch):
    import re

    corpus = tmp_path / "ax"
    export_job(run_dir, corpus, fmt="alignxie")
    card = (corpus / "README.md").read_text()
    (snippet,) = re.findall(r"```python\n(.*?)```", card, re.S)
    monkeypatch.chdir(corpus)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    found: dict = {}
    exec(snippet, found)
    assert len(found["df"]) == len(found["records"]) == 91 and found["instances"]


def test_evaluate_on_the_bundled_sample(run_dir, tmp_path, sample_dir):
    export_job(run_dir, tmp_path / "c")
    result = evaluate(tmp_path / "c", sample_dir / "pud-pairs.jsonl")
    assert result["matched_rows"] == result["corpus_rows"] == 183
    assert result["missing_share"] == {"en-zh": 0.09, "zh-en": 0.08}
    exact, overlap = result["scores"]["exact"]["ALL"], result["scores"]["overlap"]["ALL"]
    assert 0.5 < exact["f1"] <= overlap["f1"] <= 1.0
    assert set(result["scores"]["exact"]) == {"ALL", "LOC", "ORG", "PER"}


def test_every_snippet_of_the_card_runs_as_printed(run_dir, tmp_path, monkeypatch):
    import re

    corpus = tmp_path / "corpus"
    manifest = export_job(run_dir, corpus, shard_rows=40)
    card = (corpus / "README.md").read_text()
    snippets = re.findall(r"```python\n(.*?)```", card, re.S)
    assert len(snippets) == 2
    monkeypatch.chdir(corpus)  # the card says: from this folder
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    first: dict = {}
    exec(snippets[0], first)
    assert len(first["df"]) == manifest["counts"]["en-zh"]
    assert first["table"].num_rows == 183
    assert first["corpus"].num_rows == manifest["counts"]["en-zh"]
    second = dict(first)  # the second snippet goes on from the first, as a reader's session
    exec(snippets[1], second)
    names, corpus_hf = second["names"], second["corpus"]
    assert (
        names == manifest["tag_names"]
        and names[0] == "O"
        and len(names) == 1 + 2 * len(manifest["labels"])
    )
    feature = corpus_hf.features["tgt_tag_ids"].feature
    assert feature.names == names
    for row in corpus_hf:  # what a token-classification collator needs: one id per token
        assert len(row["tgt_tag_ids"]) == len(row["tgt_tokens"]) == len(row["tgt_tags"])
        assert [feature.int2str(i) for i in row["tgt_tag_ids"]] == row["tgt_tags"]
        assert [names[i] for i in row["src_tag_ids"]] == row["src_tags"]
    assert second["id2label"][1] == names[1]
