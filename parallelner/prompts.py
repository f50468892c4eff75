"""Prompt templates and the reply contract, loaded from ``prompts/`` (prompts are data)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from parallelner.records import Sample

LANG_NAMES = {
    "en": "English",
    "zh": "Chinese",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "ja": "Japanese",
    "ko": "Korean",
    "ru": "Russian",
    "ar": "Arabic",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
    "vi": "Vietnamese",
    "th": "Thai",
    "id": "Indonesian",
}

Message = dict[str, str]


def prompts_dir() -> Path:
    """The templates: inside an installed wheel, else the repository's ``prompts/``."""
    packaged = Path(__file__).parent / "_prompts"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "prompts"


def lang_name(code: str) -> str:
    return LANG_NAMES.get(code.split("-")[0].lower(), code)


@dataclass(frozen=True)
class PromptSet:
    """One version of the joint-translation templates and the JSON schema of its reply."""

    version: str
    system: str
    user: str
    no_entities: str
    repair_span: str
    repair_sentence: str
    repair_format: str
    problem_missing: str
    problem_not_found: str
    problem_overlap: str
    schema_json: str

    @property
    def response_format(self) -> dict[str, object]:
        """The ``response_format`` that makes vLLM and OpenAI decode to the schema."""
        schema = json.loads(self.schema_json)
        return {
            "type": "json_schema",
            "json_schema": {"name": "joint_translation", "schema": schema, "strict": True},
        }

    def messages(self, sample: Sample, tgt_lang: str) -> list[Message]:
        """The first request for ``sample``: its sentence verbatim and its numbered entities."""
        lines = [f"{i}. [{s.label}] {s.text}" for i, s in enumerate(sample.entities, start=1)]
        user = self.user.format(
            src_name=lang_name(sample.lang),
            tgt_name=lang_name(tgt_lang),
            text=sample.text,
            entity_lines="\n".join(lines) or self.no_entities,
        )
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


@cache
def load_prompts(name: str = "joint_translation", directory: Path | None = None) -> PromptSet:
    """The PromptSet in ``<directory>/<name>.toml`` (default: the bundled prompts)."""
    folder = directory or prompts_dir()
    data = tomllib.loads((folder / f"{name}.toml").read_text(encoding="utf-8"))
    schema_json = (folder / data.pop("schema")).read_text(encoding="utf-8")
    return PromptSet(schema_json=schema_json, **data)
