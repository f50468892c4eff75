"""Prompt templates and the reply contract, loaded from ``prompts/`` (prompts are data)."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from parallelner.records import Sample, Span, primary_language

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
    package = Path(__file__).resolve().parent.parent
    packaged = package / "_prompts"
    return packaged if packaged.is_dir() else package.parent / "prompts"


def lang_name(code: str) -> str:
    return LANG_NAMES.get(primary_language(code), code)


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
    ask_span: str = ""  # recovery's span question ("" in a prompt set without one: not asked)
    ask_version: str = ""
    glossary: str = ""  # the required renderings block ("" in a set without one: not sent)
    glossary_version: str = ""

    @property
    def ask_params(self) -> dict[str, object]:
        """The decoding parameters of every span question (one object: serialised once)."""
        return _ask_params()

    @property
    def response_format(self) -> dict[str, object]:
        """The ``response_format`` that makes vLLM and OpenAI decode to the schema."""
        return response_format("joint_translation", self.schema_json)

    def version_for(self, required: Sequence[tuple[int, str]]) -> str:
        """The prompt version of a sample: with the glossary's, when it has required forms."""
        return (
            f"{self.version}+{self.glossary_version}"
            if required and self.glossary
            else self.version
        )

    def messages(
        self, sample: Sample, tgt_lang: str, required: Sequence[tuple[int, str]] = ()
    ) -> list[Message]:
        """The first request for ``sample``: its sentence verbatim and its numbered entities;
        ``required``: (entity index, target form) pairs the glossary gives for it."""
        user = self.user.format(
            src_name=lang_name(sample.lang),
            tgt_name=lang_name(tgt_lang),
            text=one_line(sample.text),
            entity_lines=entity_lines(sample.entities) or self.no_entities,
        )
        if required and self.glossary:
            lines = "\n".join(
                f"{i + 1}. [{one_line(sample.entities[i].label)}] "
                f"{one_line(sample.entities[i].text)} -> {one_line(target)}"
                for i, target in required
            )
            user += "\n\n" + self.glossary.format(
                tgt_name=lang_name(tgt_lang), glossary_lines=lines
            )
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class AlignmentPrompt:
    """The templates of a check that shows the model a sentence and its translation: the
    verification round (which span translates each numbered source entity, ``--verify``)
    and the adequacy judge (``--adequacy judge``)."""

    version: str
    schema_name: str
    system: str
    user: str
    schema_json: str

    @property
    def response_format(self) -> dict[str, object]:
        return response_format(self.schema_name, self.schema_json)

    @cached_property
    def params(self) -> dict[str, object]:
        """The decoding parameters of every verification call (one object: serialised once)."""
        return {"temperature": 0.0, "max_tokens": 1024, "response_format": self.response_format}

    def messages(
        self, src_lang: str, tgt_lang: str, text: str, translation: str, entities: tuple[Span, ...]
    ) -> list[Message]:
        user = self.user.format(
            src_name=lang_name(src_lang),
            tgt_name=lang_name(tgt_lang),
            text=one_line(text),
            translation=one_line(translation),
            entity_lines=entity_lines(entities),
        )
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


def response_format(name: str, schema_json: str) -> dict[str, object]:
    """A ``json_schema`` response format (vLLM and OpenAI both decode to it)."""
    schema = json.loads(schema_json)
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


ASK_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
    "additionalProperties": False,
}


@cache
def _ask_params() -> dict[str, object]:
    fmt = response_format("entity_span", json.dumps(ASK_SCHEMA))
    return {"temperature": 0.0, "max_tokens": 96, "response_format": fmt}


_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """``text`` with its line breaks as spaces: a value put into a prompt cannot start a line of
    its own (an entity ``"X\n2. [PER] Y"`` would forge a second numbered entity). The offsets of
    the sample are not touched: only what the model is shown."""
    return _LINE_BREAKS.sub(" ", text)


def entity_lines(entities: tuple[Span, ...]) -> str:
    """One line per entity, ``<id>. [<LABEL>] <form>``, numbered from 1."""
    return "\n".join(
        f"{i}. [{one_line(s.label)}] {one_line(s.text)}" for i, s in enumerate(entities, start=1)
    )


def _load(name: str, directory: Path | None) -> dict[str, str]:
    folder = directory or prompts_dir()
    data = tomllib.loads((folder / f"{name}.toml").read_text(encoding="utf-8"))
    data["schema_json"] = (folder / data.pop("schema")).read_text(encoding="utf-8")
    return data


@cache
def load_prompts(name: str = "joint_translation", directory: Path | None = None) -> PromptSet:
    """The PromptSet in ``<directory>/<name>.toml`` (default: the bundled prompts)."""
    return PromptSet(**_load(name, directory))


@cache
def load_alignment_prompt(directory: Path | None = None) -> AlignmentPrompt:
    """The verification round's prompt, ``<directory>/entity_alignment.toml``."""
    return AlignmentPrompt(**_load("entity_alignment", directory))


@cache
def load_adequacy_prompt(directory: Path | None = None) -> AlignmentPrompt:
    """The adequacy judge's prompt, ``<directory>/adequacy_judge.toml``."""
    return AlignmentPrompt(**_load("adequacy_judge", directory))


def prompt_versions() -> str:
    """The versions of every prompt a run may send, for cache keys of whole results."""
    return f"{load_prompts().version}+{load_alignment_prompt().version}"
