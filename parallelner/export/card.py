"""The dataset card (``CORPUS/README.md``) of an exported corpus. Every value that comes from
the run (labels, model names, prompt versions) is escaped: a card renders as Markdown and HTML
on a hub, and a run folder's files may be written by any node of a shared file system."""

from __future__ import annotations

import html
import re

from parallelner.review.audit import is_estimate

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md(value: object) -> str:
    """``value`` as literal Markdown text: HTML escaped, Markdown punctuation backslashed, one
    line."""
    text = " ".join(str(value).split())
    return _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))


def _table(manifest: dict) -> str:
    lines = ["| language pair | pairs | shards |", "|---|---|---|"]
    folder = f"{manifest['version']}/" if manifest.get("version") else ""
    for pair, rows in manifest["counts"].items():
        shards = sum(1 for s in manifest["shards"] if s["path"].startswith(f"{folder}{pair}/"))
        lines.append(f"| {md(pair)} | {int(rows):,} | {shards} |")
    return "\n".join(lines)


def _alignxie_card(manifest: dict, pair: str, version: str) -> str:
    classes = manifest.get("class_map") or {}
    rows = "\n".join(
        f"| {md(label)} | `{md(c.get('name', label))}({md(c.get('parent', 'Entity'))})` |"
        for label, c in classes.items()
        if isinstance(c, dict)
    )
    return f"""# AlignXIE / KnowCoder-X records (parallelner export --format alignxie)

"Translated instance prediction" records for instruction tuning, in KnowCoder's own layout: the
entity classes as Python (named after Wikidata with their parents, each with `Description:` and
`Examples:`), the instruction as a triple-quoted string, the source sentence with its instances
in `results`, the translated sentence; the completion is the translation's instances as
`results = [...]` (parallelner {md(manifest["parallelner_version"])}).

{_table(manifest)}

| label | class |
|---|---|
{rows}

`manifest.json` names the current version folder ({version}); read the folder it names.

## Load it

From this folder:

```python
import json
manifest = json.load(open("manifest.json"))
version = manifest["version"]

import pandas as pd
shards = [s["path"] for s in manifest["shards"] if s["path"].startswith(f"{{version}}/{pair}/")]
df = pd.concat(map(pd.read_parquet, shards))  # id, src_lang, tgt_lang, prompt, completion

from datasets import load_dataset
files = f"{{version}}/{pair}/alignxie.jsonl"
records = load_dataset("json", data_files={{"train": files}})["train"]

import ast
import re
first = df.iloc[0]
ast.parse(first["prompt"] + "\\n" + first["completion"])  # the prompt and its answer are Python
instances = re.findall(r'\\s*(\\w+)\\(\\s*\\"(.*?)\\"', first["completion"])  # KnowCoder's
```
"""


def dataset_card(manifest: dict) -> str:
    """Markdown: what the corpus holds, its columns, and how to load it three ways."""
    pair = next(iter(manifest["counts"]), "en-zh")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", pair):  # a folder name in the snippets below
        pair = "en-zh"
    version = manifest.get("version", "")
    if not re.fullmatch(r"v\d+", version):
        version = "v0001"
    if manifest.get("format") == "alignxie":
        return _alignxie_card(manifest, pair, version)
    review = manifest.get("review_report") or {}
    audit = review.get("audit") if isinstance(review, dict) else None
    quality = ""
    if is_estimate(audit):
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
checks and human review (parallelner {md(manifest["parallelner_version"])}, schema version
{md(manifest["schema_version"])}, include: {md(manifest["include"])}).

{_table(manifest)}

Labels: {", ".join(map(md, manifest["labels"])) or "-"}. Models:
{", ".join(map(md, manifest["models"])) or "-"}. Prompt versions:
{", ".join(map(md, manifest["prompt_versions"])) or "-"}. Shard checksums (sha256) and source
files are in `manifest.json`, which names the current version folder ({version}): an export
builds a new version beside the old one and switches the manifest to it in one step, so read
the folder the manifest names, never a glob over this folder.
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
import json
manifest = json.load(open("manifest.json"))
version = manifest["version"]  # the current export ({version} when this card was written)

import pandas as pd
df = pd.read_parquet(f"{{version}}/{pair}")  # one language pair

import pyarrow.dataset as ds
shards = [s["path"] for s in manifest["shards"]]  # every pair
table = ds.dataset(shards, format="parquet").to_table()

from datasets import load_dataset
files = f"{{version}}/{pair}/part-*.parquet"
corpus = load_dataset("parquet", data_files={{"train": files}})["train"]
```

For token classification, the tag names as a `ClassLabel` feature:

```python
from datasets import ClassLabel, Sequence
names = manifest["tag_names"]
corpus = corpus.cast_column("tgt_tag_ids", Sequence(ClassLabel(names=names)))
id2label = dict(enumerate(names))  # for the model's config; label2id the other way round
```
"""
