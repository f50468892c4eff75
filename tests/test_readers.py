"""Readers on real UNER data, and every bad-input case naming file, line and what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parallelner.errors import InputError
from parallelner.readers import Quarantine, ReadOptions, ReadStats, read_samples


def _read(path: Path, lang: str, fmt: str = "auto", **kw) -> list:
    return list(read_samples([path], lang, options=ReadOptions(format=fmt), **kw))


def test_iob2_reader_reproduces_the_gold_character_spans(sample_dir, pairs):
    for lang in ("en", "zh"):
        samples = _read(sample_dir / f"{lang}-pud.iob2", lang)
        assert len(samples) == len(pairs) == 100
        for s, p in zip(samples, pairs, strict=True):
            assert p["id"] == f"pud-{s.id}"
            assert s.text == p[lang]["text"]
            gold = [(e["start"], e["end"], e["label"], e["text"]) for e in p[lang]["entities"]]
            assert [(e.start, e.end, e.label, e.text) for e in s.entities] == gold


def test_chinese_words_are_joined_without_spaces(shared_data, tmp_path):
    src = shared_data / "uner-zh-gsdsimp" / "zh_gsdsimp-ud-dev.iob2"
    with_text = _read(src, "zh")
    # The same file without `# text`: detokenisation must rebuild the same sentences.
    stripped = tmp_path / "no-text.iob2"
    lines = src.read_text(encoding="utf-8").splitlines()
    stripped.write_text("\n".join(x for x in lines if not x.startswith("# text")) + "\n", "utf-8")
    rebuilt = _read(stripped, "zh")
    assert len(with_text) == len(rebuilt) == 500
    pairs = zip(with_text, rebuilt, strict=True)
    same = sum(a.text == b.text and a.entities == b.entities for a, b in pairs)
    assert same / 500 > 0.95  # a few sentences keep a space between Latin words


def test_english_tokens_are_joined_with_spaces_and_attached_punctuation(tmp_path):
    f = tmp_path / "conll2003.txt"
    f.write_text(
        "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n"
        "German JJ B-NP B-MISC\ncall NN I-NP O\n. . O O\n\n",
        "utf-8",
    )
    [s] = _read(f, "en")
    assert s.text == "EU rejects German call."
    assert [(e.text, e.label) for e in s.entities] == [("EU", "ORG"), ("German", "MISC")]


def test_bioes_tags_are_read(tmp_path):
    f = tmp_path / "bioes.txt"
    f.write_text("John B-PER\nSmith E-PER\nvisited O\nParis S-LOC\n\n", "utf-8")
    [s] = _read(f, "en")
    assert [(e.text, e.label) for e in s.entities] == [("John Smith", "PER"), ("Paris", "LOC")]


def test_character_level_chinese_bio_keeps_latin_letters_together(tmp_path):
    f = tmp_path / "msra.char.bio"
    chars = [
        ("我", "O"),
        ("用", "O"),
        ("i", "O"),
        ("P", "O"),
        ("a", "O"),
        ("d", "O"),
        ("在", "O"),
        ("北", "B-LOC"),
        ("京", "I-LOC"),
    ]
    f.write_text("\n".join(f"{c} {t}" for c, t in chars) + "\n\n", "utf-8")
    [s] = _read(f, "zh", fmt="chars")
    assert s.text == "我用iPad在北京" and s.entities[0].text == "北京"


def test_jsonl_round_trip(sample_dir, tmp_path):
    samples = _read(sample_dir / "en-pud.iob2", "en")
    f = tmp_path / "native.jsonl"
    with f.open("w", encoding="utf-8") as fh:
        for s in samples:
            ents = [{"start": e.start, "end": e.end, "label": e.label} for e in s.entities]
            fh.write(
                json.dumps({"id": s.id, "lang": "en", "text": s.text, "entities": ents}) + "\n"
            )
    assert _read(f, "en") == samples


def test_pairs_jsonl_side_is_read_by_language(sample_dir, pairs):
    zh = _read(sample_dir / "pud-pairs.jsonl", "zh")
    assert [s.text for s in zh] == [p["zh"]["text"] for p in pairs]


def test_hugging_face_parquet_with_label_names_in_metadata(sample_dir, tmp_path):
    samples = _read(sample_dir / "en-pud.iob2", "en", limit=20)
    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    rows = []
    for s in samples:
        tokens = s.text.split(" ")
        tags, pos = [], 0
        for tok in tokens:
            inside = [e for e in s.entities if e.start <= pos < e.end]
            tags.append(
                0
                if not inside
                else names.index(("B-" if inside[0].start == pos else "I-") + inside[0].label)
            )
            pos += len(tok) + 1
        rows.append({"id": s.id, "tokens": tokens, "ner_tags": tags})
    hf = {
        "info": {
            "features": {
                "ner_tags": {
                    "feature": {"names": names, "_type": "ClassLabel"},
                    "_type": "Sequence",
                }
            }
        }
    }
    table = pa.Table.from_pylist(rows).replace_schema_metadata({"huggingface": json.dumps(hf)})
    f = tmp_path / "hf.parquet"
    pq.write_table(table, f)
    got = _read(f, "en")
    assert [g.id for g in got] == [s.id for s in samples]
    # Whitespace tokens keep punctuation attached, so entities match where they are whole tokens.
    whole = [s for s in samples if all(" " + e.text in " " + s.text + " " for e in s.entities)]
    assert whole and all({e.label for e in g.entities} <= {"PER", "ORG", "LOC"} for g in got)


@pytest.mark.parametrize(
    ("content", "fmt", "line", "message"),
    [
        ("1\tJohn\tO\n2\tSmith\tI-PER\n\n", "conll", 2, "I-PER starts an entity (after O)"),
        ("John B-PER\nSmith\n\n", "conll", 2, "1 column(s), but the tag is in column 1"),
        ("# sent_id = a\n# text = Hello\n\nHi O\n\n", "conll", 1, "empty sentence"),
        (
            '{"id": "a", "text": "Hi", "entities": [{"start": 0, "end": 9, "label": "PER"}]}\n',
            "jsonl",
            1,
            "outside the text",
        ),
        (
            '{"id": "a", "text": "Hi", "entities": []}\n{"id": "b", "text": \n',
            "jsonl",
            2,
            "invalid JSON",
        ),
        ('{"id": "a", "entities": []}\n', "jsonl", 1, "missing field 'text'"),
        (
            '{"id": "a", "text": "Hi", "entities": []}\n'
            '{"id": "a", "text": "Yo", "entities": []}\n',
            "jsonl",
            2,
            "duplicate id 'a'",
        ),
    ],
)
def test_bad_input_names_file_line_and_problem(tmp_path, content, fmt, line, message):
    f = tmp_path / f"bad.{'jsonl' if fmt == 'jsonl' else 'iob2'}"
    f.write_text(content, "utf-8")
    with pytest.raises(InputError) as info:
        _read(f, "en", fmt=fmt)
    assert info.value.path == str(f) and info.value.line == line
    assert message in info.value.message
    assert str(info.value).startswith(f"{f}:{line}: ")


def test_invalid_utf8_names_the_line(tmp_path):
    f = tmp_path / "latin1.iob2"
    f.write_bytes("Jos\xe9 B-PER\n".encode("latin-1") + b"\n")
    with pytest.raises(InputError, match=r"latin1.iob2:1: invalid UTF-8 at byte 3"):
        _read(f, "en")


def test_skip_mode_quarantines_and_counts_bad_records(sample_dir, tmp_path):
    good = (sample_dir / "en-pud.iob2").read_text("utf-8").split("\n\n")[:3]
    broken = "# sent_id = broken\n1\tAlice\tI-PER\n2\tleft\tO"
    f = tmp_path / "mixed.iob2"
    f.write_text("\n\n".join([good[0], broken, good[1], good[2]]) + "\n\n", "utf-8")
    stats, quarantine = ReadStats(), Quarantine(tmp_path / "quarantine.jsonl")
    samples = _read(f, "en", on_bad_record="skip", quarantine=quarantine, stats=stats)
    quarantine.close()
    assert len(samples) == 3 and stats.read == 3 and stats.skipped == 1
    [row] = [json.loads(x) for x in (tmp_path / "quarantine.jsonl").read_text().splitlines()]
    assert (
        row["path"] == str(f) and "I-PER starts an entity (at the sentence start)" in row["error"]
    )


def test_limit_reads_only_the_first_samples(shared_data):
    got = _read(shared_data / "uner-en-ewt" / "en_ewt-ud-dev.iob2", "en", limit=7)
    assert len(got) == 7


def test_real_corpora_read_with_their_documented_counts(shared_data):
    ewt = _read(shared_data / "uner-en-ewt" / "en_ewt-ud-test.iob2", "en")
    gsd = _read(shared_data / "uner-zh-gsdsimp" / "zh_gsdsimp-ud-train.iob2", "zh")
    # The folder's README says 1,089 entities; the file has 1,088 B- tags, and so 1,088 entities.
    assert (len(ewt), sum(len(s.entities) for s in ewt)) == (2077, 1088)
    assert (len(gsd), sum(len(s.entities) for s in gsd)) == (3997, 6118)
