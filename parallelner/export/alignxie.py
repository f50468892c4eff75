"""AlignXIE / KnowCoder-X "translated instance prediction" records, in KnowCoder's own layout
(``ICT-GoKnow/KnowCoder``: ``eval/src/template/NER``, ``class_defs/entity_class_defs.json``,
``convert/convert_ner.py``).

The prompt defines ``class Entity`` and one class per label, named after its Wikidata class
with its parent (``class Human(Person):``), each with a docstring holding ``Description:`` and
``Examples:``; then the instruction as a triple-quoted string; then the source sentence with
its instances and the translated sentence. The completion is the translation's instances as
KnowCoder writes results::

    results = [
    \tHuman("李白"),
    ]

Label names map to classes through ``DEFAULT_CLASSES`` (PER, ORG, LOC, MISC), overridable with
``--class-map`` (TOML or JSON: ``[PER] name = "Human", parent = "Person", description = "...",
examples = ["...", "..."]``). Strings are written so that both Python's ``ast`` and KnowCoder's
own parser (``\\s*(\\w+)\\(\\s*\\"(.*?)\\"``, which stops at the first double quote) read every
instance: a double quote inside a string is written ``\\u0022``.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from parallelner.errors import ConfigError
from parallelner.llm.prompts import lang_name

DEFAULT_CLASSES: dict[str, dict[str, object]] = {
    "PER": {
        "name": "Human",
        "parent": "Person",
        "description": "a real or fictional individual person, named",
        "examples": ["Barack Obama", "Marie Curie", "李白"],
    },
    "ORG": {
        "name": "Organization",
        "parent": "GroupOfHumans",
        "description": "a company, institution, agency, team, party or other named group of "
        "people with a purpose",
        "examples": ["United Nations", "Apple", "清华大学"],
    },
    "LOC": {
        "name": "GeographicLocation",
        "parent": "Entity",
        "description": "a named geographical or political place: a country, city, region, "
        "river, mountain or building",
        "examples": ["France", "Mount Everest", "北京"],
    },
    "MISC": {
        "name": "MiscellaneousEntity",
        "parent": "Entity",
        "description": "another named entity: an event, nationality, product, work of art or "
        "language",
        "examples": ["Olympic Games", "French", "iPhone"],
    },
}

INSTRUCTION = (
    "This is an object-oriented programming task: some Entity Classes are defined above. The "
    "sentence below, in {src}, has its Entity Objects instantiated in `results`. Please "
    "instantiate all the corresponding Entity Objects in its translation into {tgt}."
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def load_classes(path: Path | None) -> dict[str, dict[str, object]]:
    """The label -> class table: the defaults, updated from ``path`` (TOML or JSON) if given."""
    table = {k: dict(v) for k, v in DEFAULT_CLASSES.items()}
    if path is None:
        return table
    try:
        text = path.read_text(encoding="utf-8")
        found = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, ValueError) as e:  # TOMLDecodeError and JSONDecodeError are ValueErrors
        raise ConfigError(f"--class-map {path}: {e}") from None
    for label, entry in found.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"--class-map {path}: {label}: expected a table of name, parent, "
                              "description, examples")  # fmt: skip
        if "class" in entry and "name" not in entry:  # the older JSON key
            entry = {**entry, "name": entry["class"]}
        if "name" in entry and "parent" not in entry:  # a class of one's own: under Entity
            entry = {**entry, "parent": "Entity"}
        for key in ("name", "parent"):
            if key in entry and not _IDENTIFIER.fullmatch(str(entry[key])):
                raise ConfigError(f"--class-map {path}: {label}.{key} {entry[key]!r} is not a "
                                  "Python class name")  # fmt: skip
        table[label] = {**table.get(label, {}), **entry}
    return table


def py_str(text: str) -> str:
    """``text`` as a double-quoted Python literal that KnowCoder's parser also reads whole:
    backslashes and control characters escaped, a double quote as ``\\u0022``."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append("\\u0022")
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20 or ch in "\x7f\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _class(label: str, table: dict[str, dict[str, object]]) -> dict[str, object]:
    entry = table.get(label, {})
    safe = re.sub(r"\W", "_", label)
    name = str(entry.get("name") or safe)
    return {
        "name": name if _IDENTIFIER.fullmatch(name) else f"Label_{safe}",
        "parent": str(entry.get("parent") or "Entity"),
        "description": str(entry.get("description") or f"an entity of type {label}"),
        "examples": [str(x) for x in entry.get("examples") or []],  # type: ignore[attr-defined]
    }


def _doc_line(text: str) -> str:
    """Text inside a docstring: one line, no closing triple quote, no stray backslash."""
    return " ".join(text.split()).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def schema_code(labels: list[str], table: dict[str, dict[str, object]]) -> str:
    """The entity classes as KnowCoder writes them (tab-indented)."""
    parts = ["class Entity:", "\tdef __init__(self, name: str):", "\t\tself.name = name"]
    for label in sorted(labels):
        c = _class(label, table)
        examples = ", ".join(c["examples"]) or "-"  # type: ignore[arg-type]
        parts += [
            "",
            f"class {c['name']}({c['parent']}):",
            '\t"""',
            f"\tDescription: {_doc_line(str(c['description']))}.",
            f"\tExamples: {_doc_line(examples)}",
            '\t"""',
            "\tpass",
        ]
    return "\n".join(parts)


def instances_code(spans: list[dict], table: dict[str, dict[str, object]], name: str) -> str:
    """``name = [\\n\\tHuman("..."),\\n]``, or ``name = []``."""
    if not spans:
        return f"{name} = []"
    items = [f"\t{_class(s['label'], table)['name']}({py_str(s['text'])})," for s in spans]
    return "\n".join([f"{name} = [", *items, "]"])


def alignxie_record(row: dict, labels: list[str], table: dict[str, dict[str, object]]) -> dict:
    """One instruction-tuning record of an exported row."""
    src, tgt = lang_name(row["src_lang"]), lang_name(row["tgt_lang"])
    prompt = "\n".join(
        [
            schema_code(labels, table),
            '"""',
            INSTRUCTION.format(src=src, tgt=tgt),
            '"""',
            f"sentence = {py_str(row['src_text'])}",
            instances_code(row["src_entities"], table, "results"),
            f"translated_sentence = {py_str(row['tgt_text'])}",
        ]
    )
    return {
        "id": row["id"],
        "src_lang": row["src_lang"],
        "tgt_lang": row["tgt_lang"],
        "prompt": prompt,
        "completion": instances_code(row["tgt_entities"], table, "results"),
    }
