"""AlignXIE / KnowCoder-X "translated instance prediction" records.

The schema as Python classes (one class per label, with a docstring; the same classes for both
languages), the source sentence with its instances as code, the target sentence; the completion
is the target instances as code. Label names map to class names and descriptions through
``DEFAULT_CLASSES``, overridable with a JSON file ``{"PER": {"class": "Person",
"description": "..."}}``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from parallelner.prompts import lang_name

DEFAULT_CLASSES: dict[str, dict[str, str]] = {
    "PER": {"class": "PER", "description": "A person: a real or fictional individual, named."},
    "ORG": {
        "class": "ORG",
        "description": "An organisation: a company, institution, agency, "
        "team, party or other group of people with a name.",
    },
    "LOC": {
        "class": "LOC",
        "description": "A location: a named geographical or political place "
        "(country, city, region, river, mountain, building, ...).",
    },
    "MISC": {
        "class": "MISC",
        "description": "Another named entity: an event, nationality, "
        "product, work of art, language, ...",
    },
}

INSTRUCTION = (
    "Below are entity classes, a sentence in {src} with its entity instances, and its "
    "translation into {tgt}. Give the entity instances of the translation as a Python list."
)


def load_classes(path: Path | None) -> dict[str, dict[str, str]]:
    """The label -> class table: the defaults, updated from ``path`` if given."""
    table = {k: dict(v) for k, v in DEFAULT_CLASSES.items()}
    if path is not None:
        for label, entry in json.loads(path.read_text(encoding="utf-8")).items():
            table[label] = {**table.get(label, {}), **entry}
    return table


def _class(label: str, table: dict[str, dict[str, str]]) -> tuple[str, str]:
    entry = table.get(label, {})
    name = entry.get("class") or re.sub(r"\W", "_", label)
    return name, entry.get("description") or f"An entity of type {label}."


def schema_code(labels: list[str], table: dict[str, dict[str, str]]) -> str:
    """The entity classes as Python source."""
    parts = [
        "class Entity:",
        '    """The base class of every entity."""',
        "",
        "    def __init__(self, name: str):",
        "        self.name = name",
    ]
    for label in sorted(labels):
        name, description = _class(label, table)
        parts += ["", "", f"class {name}(Entity):", f'    """{description}"""']
    return "\n".join(parts)


def instances_code(spans: list[dict], table: dict[str, dict[str, str]]) -> str:
    items = [
        f"{_class(s['label'], table)[0]}({json.dumps(s['text'], ensure_ascii=False)})"
        for s in spans
    ]
    return "[" + ", ".join(items) + "]"


def alignxie_record(row: dict, labels: list[str], table: dict[str, dict[str, str]]) -> dict:
    """One instruction-tuning record of an exported row."""
    src, tgt = lang_name(row["src_lang"]), lang_name(row["tgt_lang"])
    prompt = "\n".join(
        [
            "# " + INSTRUCTION.format(src=src, tgt=tgt),
            schema_code(labels, table),
            "",
            f"sentence = {json.dumps(row['src_text'], ensure_ascii=False)}",
            f"results = {instances_code(row['src_entities'], table)}",
            "",
            f"translated_sentence = {json.dumps(row['tgt_text'], ensure_ascii=False)}",
            "translated_results = ",
        ]
    )
    return {
        "id": row["id"],
        "src_lang": row["src_lang"],
        "tgt_lang": row["tgt_lang"],
        "prompt": prompt,
        "completion": instances_code(row["tgt_entities"], table),
    }
