"""``parallelner evaluate``: target entities of an exported corpus against gold target annotations.

Gold: a pairs JSONL (``{"id", "<lang>": {"text", "entities"}, ...}``, the UNER PUD shape). A corpus
row is matched to a gold pair by its source sentence (or its source id). Where the corpus
translation is the gold text, spans are compared by offsets: **exact** = same start, end and
label; **overlap** = same label and overlapping. Where the translations differ, offsets mean
nothing across texts, so entities are compared by surface form: exact = same label and text,
overlap = same label and one text contains the other.

The corpus is read in record batches, never whole: memory holds the gold set and one batch.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from parallelner.errors import ConfigError, InputError

Entity = tuple[int, int, str, str]  # start, end, label, text


@dataclass
class Tally:
    tp: int = 0
    pred: int = 0
    gold: int = 0

    def scores(self) -> dict[str, float]:
        p = self.tp / self.pred if self.pred else 0.0
        r = self.tp / self.gold if self.gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "tp": self.tp,
            "pred": self.pred,
            "gold": self.gold,
        }


def _matches(pred: list[Entity], gold: list[Entity], same_text: bool, overlap: bool) -> list[bool]:
    """For each gold entity, whether a distinct predicted entity matches it."""
    used = [False] * len(pred)
    hits = []
    for g in gold:
        hit = False
        for k, p in enumerate(pred):
            if used[k] or p[2] != g[2]:
                continue
            if same_text:
                ok = (p[0] < g[1] and g[0] < p[1]) if overlap else (p[0], p[1]) == (g[0], g[1])
            else:
                ok = (p[3] in g[3] or g[3] in p[3]) if overlap else p[3] == g[3]
            if ok:
                used[k] = hit = True
                break
        hits.append(hit)
    return hits


def _load_gold(path: Path) -> tuple[dict[tuple[str, str], dict], dict[str, dict]]:
    by_text: dict[tuple[str, str], dict] = {}
    by_id: dict[str, dict] = {}
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                pair = json.loads(line)
                by_id[str(pair["id"])] = pair
            except (ValueError, KeyError, TypeError) as e:
                why = "not JSON" if isinstance(e, ValueError) else "not a pair with an id"
                raise InputError(
                    path,
                    number,
                    f"{why}: --gold takes pairs JSONL ({{id, <lang>: {{text, "
                    "entities}}}} a line)",
                ) from None
            for lang, side in pair.items():
                if isinstance(side, dict) and "text" in side:
                    by_text[(lang, side["text"])] = pair
    return by_text, by_id


def _entities(side: dict) -> list[Entity]:
    text = side["text"]
    return [
        (e["start"], e["end"], e["label"], e.get("text") or text[e["start"] : e["end"]])
        for e in side["entities"]
    ]


def _rows(files: list[str], columns: list[str]) -> Iterator[dict]:
    """The corpus rows, one record batch of one file at a time (no read-ahead), decoded on this
    thread: Arrow's decode threads each keep a heap of their own in its allocator, which made
    the peak grow with the corpus (116-118 MB at 10k pairs, 130-140 MB at 200k; 107-110 and
    113-115 MB without them, as fast)."""
    for path in files:
        with pq.ParquetFile(path) as shard:
            for batch in shard.iter_batches(batch_size=2048, columns=columns, use_threads=False):
                yield from batch.to_pylist()


def corpus_shards(corpus: Path) -> list[str]:
    """The Parquet shards an exported corpus's ``manifest.json`` names (its current version)."""
    path = corpus / "manifest.json"
    if not path.is_file():
        raise ConfigError(f"{corpus}: no manifest.json (not an exported corpus: run export first)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise ConfigError(f"{path}: not JSON (not a parallelner corpus)") from None
    if manifest.get("format", "parquet") != "parquet":
        raise ConfigError(f"{corpus}: a --format {manifest['format']} export; evaluate reads "
                          "--format parquet corpora")  # fmt: skip
    return [str(corpus / s["path"]) for s in manifest.get("shards", [])]


def evaluate(corpus: Path, gold_path: Path) -> dict:
    """Span-level P/R/F1 (exact and overlap, per label) and the share of gold pairs missing."""
    files = corpus_shards(corpus)  # a folder that is no corpus is refused before the gold is read
    by_text, by_id = _load_gold(gold_path)
    columns = ["source_id", "src_lang", "tgt_lang", "src_text", "tgt_text", "tgt_entities"]
    tallies = {m: {"ALL": Tally()} for m in ("exact", "overlap")}
    found: Counter[str] = Counter()
    directions: set[tuple[str, str]] = set()
    read = 0
    for row in _rows(files, columns):
        read += 1
        pair = by_text.get((row["src_lang"], row["src_text"])) or by_id.get(row["source_id"])
        if pair is None or row["tgt_lang"] not in pair:
            continue
        directions.add((row["src_lang"], row["tgt_lang"]))
        found[f"{row['src_lang']}-{row['tgt_lang']}"] += 1
        gold_side = pair[row["tgt_lang"]]
        gold = _entities(gold_side)
        pred = [(s["start"], s["end"], s["label"], s["text"]) for s in row["tgt_entities"]]
        same_text = gold_side["text"] == row["tgt_text"]
        for mode in ("exact", "overlap"):
            hits = _matches(pred, gold, same_text, mode == "overlap")
            for label in {e[2] for e in gold + pred} | {"ALL"}:
                t = tallies[mode].setdefault(label, Tally())
                t.gold += sum(1 for g in gold if label in ("ALL", g[2]))
                t.pred += sum(1 for p in pred if label in ("ALL", p[2]))
                t.tp += sum(
                    1 for g, h in zip(gold, hits, strict=True) if h and label in ("ALL", g[2])
                )
    gold_pairs = len(by_id)
    return {
        "corpus_rows": read,
        "matched_rows": sum(found.values()),
        "by_direction": dict(found),
        "gold_pairs": gold_pairs,
        "missing_share": {
            f"{s}-{t}": round(1 - found[f"{s}-{t}"] / gold_pairs, 4) if gold_pairs else None
            for s, t in sorted(directions)
        },
        "scores": {
            m: {label: t.scores() for label, t in sorted(v.items())} for m, v in tallies.items()
        },
    }
