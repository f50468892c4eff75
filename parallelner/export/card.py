"""The dataset card (``CORPUS/README.md``) of an exported corpus."""

from __future__ import annotations


def _table(manifest: dict) -> str:
    lines = ["| language pair | pairs | shards |", "|---|---|---|"]
    for pair, rows in manifest["counts"].items():
        shards = sum(1 for s in manifest["shards"] if s["path"].startswith(f"{pair}/"))
        lines.append(f"| {pair} | {rows:,} | {shards} |")
    return "\n".join(lines)


def dataset_card(manifest: dict) -> str:
    """Markdown: what the corpus holds, its columns, and how to load it three ways."""
    pair = next(iter(manifest["counts"]), "en-zh")
    review = manifest.get("review_report") or {}
    audit = review.get("audit") or {}
    quality = ""
    if audit.get("precision") is not None:
        low, high = audit["ci95"]
        quality = (
            f"\nAudit: {audit['audited_approved']} of {audit['audited_reviewed']} audited "
            f"auto-accepted pairs were approved by reviewers: estimated precision of the "
            f"unreviewed pairs {audit['precision']:.1%} "
            f"(95% Wilson interval {low:.1%}-{high:.1%}).\n"
        )
    return f"""# Parallel NER corpus (parallelner export)

Bilingual sentence pairs with named entities on both sides, made by translating annotated
sentences with an LLM, projecting every entity into the translation, filtering by consistency
checks and human review (parallelner {manifest["parallelner_version"]}, schema version
{manifest["schema_version"]}, `--include {manifest["include"]}`).

{_table(manifest)}

Labels: {", ".join(manifest["labels"]) or "-"}. Models: {", ".join(manifest["models"]) or "-"}.
Prompt versions: {", ".join(manifest["prompt_versions"]) or "-"}. Shard checksums (sha256) and
source files are in `manifest.json`.
{quality}
## Columns

- `src_text`, `tgt_text`; `src_entities`, `tgt_entities`: list of {{start, end, label, text}},
  character offsets (Python code points, end exclusive): `tgt_text[start:end] == text`.
- `src_tokens`/`src_tags`, `tgt_tokens`/`tgt_tags`: tokens (each CJK character a token, other
  text split at spaces, punctuation and entity boundaries) with BIO tags, ready for token
  classification; `src_tag_ids`/`tgt_tag_ids`: the same tags as class ids into `tag_names` of
  `manifest.json` ({len(manifest.get("tag_names", []))} classes: `O`, then `B-`/`I-` per label).
- `review_status`: `approved` or `corrected` by a reviewer; null where the pair was accepted
  without review. `reviewer`, `reviewed_at`.
- `id`, `source_id`, `src_lang`, `tgt_lang`, `model`, `prompt_version`, `attempts`,
  `confidence`, token counts.

## Load it

From this folder:

```python
import pandas as pd
df = pd.read_parquet("{pair}")  # one language pair

import glob
import pyarrow.dataset as ds
table = ds.dataset(sorted(glob.glob("*/part-*.parquet")), format="parquet").to_table()  # every pair

from datasets import load_dataset
corpus = load_dataset("parquet", data_files={{"train": "{pair}/part-*.parquet"}})["train"]
```

For token classification, the tag names as a `ClassLabel` feature:

```python
import json
from datasets import ClassLabel, Sequence, load_dataset
names = json.load(open("manifest.json"))["tag_names"]
corpus = load_dataset("parquet", data_files={{"train": "{pair}/part-*.parquet"}})["train"]
corpus = corpus.cast_column("tgt_tag_ids", Sequence(ClassLabel(names=names)))
id2label = dict(enumerate(names))  # for the model's config; label2id the other way round
```
"""
