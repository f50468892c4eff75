"""Corpora as their authors publish them (tests/data, with sources and licences in its README):
sentence and entity counts, hand-checked sentences, what was normalised, and each refusal's
one line naming the flag that reads the file."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parallelner.errors import InputError
from parallelner.formats import ReadOptions
from parallelner.readers import ReadStats, UnreadableFile, read_samples

DATA = Path(__file__).parent / "data"


def _read(path: Path, lang: str, **options) -> tuple[list, ReadStats]:
    stats = ReadStats()
    samples = list(read_samples([path], lang, options=ReadOptions(**options), stats=stats))
    return samples, stats


def _entities(sample) -> list[tuple[str, str]]:
    return [(e.text, e.label) for e in sample.entities]


def test_wnut17_keeps_sentences_that_begin_with_a_hashtag_token():
    samples, stats = _read(DATA / "wnut17-train-head.conll", "en")
    assert len(samples) == 13 and sum(len(s.entities) for s in samples) == 7
    nfl = samples[11]
    assert nfl.text.startswith("#NFL Week 2 picks blog is up on @The_Score website")
    assert _entities(samples[0]) == [("Empire State Building", "location"), ("ESB", "location")]
    assert _entities(samples[10]) == [("vodka", "product")]
    report = stats.files[str(DATA / "wnut17-train-head.conll")]
    assert report.tokens == 190 and report.scheme == "IOB2"
    assert list(report.normalised.values()) == [1]  # the one '#' line at a sentence start


def test_germeval_2014_two_tag_columns_are_refused_naming_both():
    with pytest.raises(UnreadableFile) as info:
        _read(DATA / "germeval2014-dev-head.tsv", "de")
    message = str(info.value)
    assert "column 2: B-OTH" in message and "column 3: B-ORG" in message
    assert "--columns token=1,tag=2 (or tag=3)" in message


def test_germeval_2014_outer_and_nested_columns_by_position():
    outer, stats = _read(DATA / "germeval2014-dev-head.tsv", "de", columns={"tags": "2"})
    nested, _ = _read(DATA / "germeval2014-dev-head.tsv", "de", columns={"tags": "3"})
    assert len(outer) == len(nested) == 11
    assert sum(len(s.entities) for s in outer) == 18
    assert sum(len(s.entities) for s in nested) == 2
    # The '#\thttp://...\t[date]' lines are comments; the '#' token inside sentence 3 is kept.
    assert outer[0].text.startswith("Gleich darauf entwirft er seine Selbstdarstellung")
    assert '"Ecce homo"' in outer[0].text
    assert _entities(outer[0]) == [("Ecce homo", "OTH"), ("Jesu", "PER")]
    assert "4:26 # Sometime Ago/La Fiesta" in outer[2].text
    assert _entities(outer[8]) == [("ADAC GT", "ORG"), ("Eurospeedway Lausitz", "ORG")]
    assert _entities(nested[8]) == [("ADAC", "ORG"), ("Lausitz", "LOC")]
    report = stats.files[str(DATA / "germeval2014-dev-head.tsv")]
    assert report.columns == {"token": "1", "tag": "2"} and report.tokens == 192


def test_bmes_character_files_read_m_as_inside():
    samples, stats = _read(DATA / "latticelstm-demo-dev-head.char", "zh")
    assert len(samples) == 4 and sum(len(s.entities) for s in samples) == 11
    assert samples[0].text == "上海浦东开发与法制建设同步"
    assert _entities(samples[1]) == [
        ("新华社", "ORG"),
        ("上海", "GPE"),
        ("谢金虎", "PER"),
        ("张持坚", "PER"),
    ]
    assert samples[2].text.endswith("确保了浦东开发的有序进行。")
    report = stats.files[str(DATA / "latticelstm-demo-dev-head.char")]
    assert report.scheme == "BMES" and "one character a line" in report.format


def test_bmes_entity_without_its_end_is_refused_unless_lenient(tmp_path):
    lines = (DATA / "latticelstm-demo-dev-head.char").read_text("utf-8").splitlines()
    lines[2] = "浦 B-GPE"
    lines[3] = "东 O"  # B-GPE no longer closed by E-GPE
    bad = tmp_path / "bmes.char"
    bad.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(InputError) as info:
        _read(bad, "zh")
    assert info.value.line == 3
    assert "not closed by E-GPE" in info.value.message and "--lenient-tags" in info.value.message
    samples, _ = _read(bad, "zh", lenient_tags=True)
    assert _entities(samples[0]) == [("上海", "GPE"), ("浦", "GPE")]


def test_weibo_first_edition_reads_as_characters():
    samples, _ = _read(DATA / "weibo-1st-dev-head.conll", "zh")
    assert len(samples) == 6 and samples[0].text == "口腔溃疡加上这玩意～酸酸甜甜好滋味。"
    assert samples[5].text == "老百姓心新乡新闻网话说这几天新乡天气还好吧偷笑"
    assert _entities(samples[5]) == [("新乡", "GPE.NAM"), ("新乡", "GPE.NAM")]


def test_weibo_second_edition_position_digits_are_removed_and_reported():
    second, stats = _read(DATA / "weibo-2nd-dev-head.conll", "zh")
    first, _ = _read(DATA / "weibo-1st-dev-head.conll", "zh")
    assert [s.text for s in second] == [first[0].text]
    report = stats.files[str(DATA / "weibo-2nd-dev-head.conll")]
    assert list(report.normalised.items()) == [
        ("position digits after each character removed (Weibo 2nd edition)", 18)
    ]


def test_wikiann_language_prefix_is_removed_from_text_and_spans(shared_data):
    samples, stats = _read(DATA / "wikiann-layout-en.bio", "en")
    ewt = list(read_samples([shared_data / "uner-en-ewt" / "en_ewt-ud-test.iob2"], "en"))[:8]
    assert len(samples) == 8 and not any("en:" in s.text for s in samples)
    assert _entities(samples[0]) == [("Miramar", "LOC")]
    assert [_entities(s) for s in samples] == [_entities(s) for s in ewt]
    report = stats.files[str(DATA / "wikiann-layout-en.bio")]
    assert report.normalised == {"language prefix 'en:' removed": report.tokens}


def test_masakhaner_reads_and_keeps_its_quotes():
    samples, _ = _read(DATA / "masakhaner-pcm-dev-head.txt", "pcm")
    assert len(samples) == 7 and sum(len(s.entities) for s in samples) == 3
    assert samples[0].text.startswith("As a result, di record and book shop na one of Lagos")
    assert _entities(samples[2]) == [("1990s", "DATE")]
    assert _entities(samples[6]) == [("Tejuoso", "PER")]


@pytest.mark.parametrize("ending", [b"\r\n", b"\r"])
def test_crlf_and_cr_only_files_read_like_lf(tmp_path, ending):
    source = DATA / "wnut17-train-head.conll"
    other = tmp_path / "other-ends.conll"
    other.write_bytes(b"\xef\xbb\xbf" + source.read_bytes().replace(b"\n", ending))
    lf, _ = _read(source, "en")
    got, _ = _read(other, "en")
    assert [(s.text, s.entities) for s in got] == [(s.text, s.entities) for s in lf]


@pytest.mark.parametrize(
    "content", ["", "\n\n", "-DOCSTART- -X- -X- O\n\n", "# a comment\n# another\n\n"]
)
def test_empty_or_comment_only_file_is_an_error(tmp_path, content):
    f = tmp_path / "nothing.conll"
    f.write_text(content, "utf-8")
    with pytest.raises(InputError, match="no samples in"):
        _read(f, "en")


def test_iob1_is_refused_with_the_flag_that_reads_it(tmp_path):
    # The example sentence of the CoNLL-2003 shared task paper, in its original IOB1 tags.
    f = tmp_path / "conll2003.txt"
    f.write_text(
        "-DOCSTART- -X- -X- O\n\nU.N. NNP I-NP I-ORG\nofficial NN I-NP O\nEkeus NNP I-NP I-PER\n"
        "heads VBZ I-VP O\nfor IN I-PP O\nBaghdad NNP I-NP I-LOC\n. . O O\n\n",
        "utf-8",
    )
    with pytest.raises(InputError) as info:
        _read(f, "en")
    assert "I-ORG starts an entity" in str(info.value) and "--lenient-tags" in str(info.value)
    [s], stats = _read(f, "en", lenient_tags=True)
    assert s.text == "U.N. official Ekeus heads for Baghdad."
    assert _entities(s) == [("U.N.", "ORG"), ("Ekeus", "PER"), ("Baghdad", "LOC")]
    assert list(stats.files[str(f)].normalised.values()) == [3]
    assert stats.files[str(f)].scheme == "IOB1 (read as IOB2)"


def test_a_file_in_another_format_names_the_flag(tmp_path):
    conll = DATA / "wnut17-train-head.conll"
    with pytest.raises(UnreadableFile, match="this looks like CoNLL, not JSONL: --format conll"):
        _read(conll, "en", format="jsonl")
    jsonl = tmp_path / "spans.txt"
    jsonl.write_text('{"id": "a", "text": "Hi", "entities": []}\n', "utf-8")
    assert [s.text for s in _read(jsonl, "en")[0]] == ["Hi"]  # auto: read by its content
    with pytest.raises(UnreadableFile, match="this looks like JSONL, not CoNLL: --format jsonl"):
        _read(jsonl, "en", format="conll")


def test_refusals_are_fatal_even_when_bad_records_are_skipped():
    with pytest.raises(UnreadableFile):
        list(
            read_samples(
                [DATA / "germeval2014-dev-head.tsv"], "de", on_bad_record="skip", stats=ReadStats()
            )
        )


# Hugging Face Parquet exports, built from the bundled UNER PUD sample's real sentences.


def _hf_rows(sample_dir: Path, n: int = 5) -> tuple[list[dict], list[str]]:
    samples = list(read_samples([sample_dir / "en-pud.iob2"], "en", limit=n))
    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    rows = []
    for s in samples:
        tokens, tags, pos = s.text.split(" "), [], 0
        for tok in tokens:
            inside = [e for e in s.entities if e.start <= pos < e.end]
            tag = (
                "O" if not inside else ("B-" if inside[0].start == pos else "I-") + inside[0].label
            )
            tags.append(names.index(tag))
            pos += len(tok) + 1
        rows.append({"id": s.id, "words": tokens, "labels": tags})
    return rows, names


def _write(tmp_path: Path, rows: list[dict], metadata: dict | None = None, name="hf.parquet"):
    table = pa.Table.from_pylist(rows)
    if metadata is not None:
        table = table.replace_schema_metadata(metadata)
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def _class_label_metadata(column: str, names: list[str]) -> dict:
    feature = {"feature": {"names": names, "_type": "ClassLabel"}, "_type": "Sequence"}
    return {"huggingface": json.dumps({"info": {"features": {column: feature}}})}


def test_parquet_other_column_names_are_mapped(sample_dir, tmp_path):
    rows, names = _hf_rows(sample_dir)
    path = _write(tmp_path, rows, _class_label_metadata("labels", names))
    with pytest.raises(UnreadableFile, match="--columns tokens=words,tags=labels"):
        _read(path, "en")
    got, stats = _read(path, "en", columns={"tokens": "words", "tags": "labels"})
    assert [s.id for s in got] == [r["id"] for r in rows]
    assert stats.files[str(path)].columns == {"tokens": "words", "tags": "labels"}
    spans = [
        {
            "sentence": s.text,
            "ents": [{"start": e.start, "end": e.end, "label": e.label} for e in s.entities],
        }
        for s in got
    ]
    path2 = _write(tmp_path, spans, name="spans.parquet")
    again, _ = _read(path2, "en", columns={"text": "sentence", "entities": "ents"})
    assert [(s.text, s.entities) for s in again] == [(s.text, s.entities) for s in got]


def test_parquet_class_ids_without_names_name_the_flag(sample_dir, tmp_path):
    rows, names = _hf_rows(sample_dir)
    path = _write(tmp_path, rows)
    columns = {"tokens": "words", "tags": "labels"}
    with pytest.raises(UnreadableFile, match="pass --label-names O,B-PER"):
        _read(path, "en", columns=columns)
    got, _ = _read(path, "en", columns=columns, label_names=tuple(names))
    assert len(got) == 5
    corrupt = _write(tmp_path, rows, {"huggingface": "{not json"}, name="corrupt.parquet")
    with pytest.raises(UnreadableFile, match="huggingface metadata .* pass --label-names"):
        _read(corrupt, "en", columns=columns)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["labels"].__setitem__(0, -2), "labels[0] is class -2, but there are 7"),
        (lambda r: r["labels"].__setitem__(0, 9), "labels[0] is class 9, but there are 7"),
        (lambda r: r["words"].__setitem__(1, None), "words[1] is null"),
    ],
)
def test_parquet_bad_values_are_bad_records_of_their_row(sample_dir, tmp_path, change, message):
    rows, names = _hf_rows(sample_dir)
    change(rows[2])
    path = _write(tmp_path, rows, _class_label_metadata("labels", names))
    columns = {"tokens": "words", "tags": "labels"}
    with pytest.raises(InputError) as info:
        _read(path, "en", columns=columns)
    assert info.value.line == 3 and message in info.value.message
    stats = ReadStats()
    options = ReadOptions(columns=columns)
    kept = list(read_samples([path], "en", options=options, on_bad_record="skip", stats=stats))
    assert len(kept) == 4 and stats.skipped == 1


def test_parquet_float_class_ids_are_not_rounded(sample_dir, tmp_path):
    rows, names = _hf_rows(sample_dir)
    for r in rows:
        r["labels"] = [float(t) for t in r["labels"]]
    rows[0]["labels"][0] = 1.7
    path = _write(tmp_path, rows, _class_label_metadata("labels", names))
    with pytest.raises(InputError, match=r"labels\[0\] is 1.7, not a tag or a class id"):
        _read(path, "en", columns={"tokens": "words", "tags": "labels"})


@pytest.mark.parametrize(
    ("texts", "line", "kind"),
    [(pa.array(["Hi there", None]), 2, "null"), (pa.array([1, 7]), 1, "int")],
)
def test_parquet_text_that_is_not_a_string_is_a_bad_record(tmp_path, texts, line, kind):
    table = pa.table({"id": ["a", "b"], "text": texts, "entities": [[], []]})
    path = tmp_path / "spans.parquet"
    pq.write_table(table, path)
    with pytest.raises(InputError) as info:
        _read(path, "en")
    assert info.value.line == line and f"text is {kind}" in info.value.message
