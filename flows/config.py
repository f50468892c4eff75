"""One place for a corpus build: endpoint, languages, paths, thresholds, review policy.

A TOML file (see ``flows/sample.toml``) read into ``CorpusConfig``, a pydantic model, so the
Prefect UI renders the flows' parameters as a form. Endpoint and filter settings are then
overridden by ``PARALLELNER_*`` environment variables (file < environment), and the API key
only ever comes from the environment.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from parallelner.config import RoutingSettings, Settings, load_settings
from parallelner.formats import Format, ReadOptions, parse_columns
from parallelner.io.storage import is_uri

#: The library's defaults: every field below that is a setting takes its default from here.
_SETTINGS, _ROUTING = Settings(), RoutingSettings()


class EndpointConfig(BaseModel):
    """How requests are made (the library's ``Settings`` of the same names)."""

    base_urls: list[str] = list(_SETTINGS.base_urls)
    model: str = _SETTINGS.model
    escalate_model: str = _SETTINGS.escalate_model
    backend: Literal["openai", "vllm"] = _SETTINGS.backend  # type: ignore[assignment]
    structured_output: str = _SETTINGS.structured_output
    concurrency: int = _SETTINGS.concurrency
    timeout: float = _SETTINGS.timeout
    max_retries: int = _SETTINGS.max_retries
    max_attempts: int = _SETTINGS.max_attempts
    recover: bool = _SETTINGS.recover
    temperature: float = _SETTINGS.temperature
    max_tokens: int = _SETTINGS.max_tokens
    cache: str = _SETTINGS.cache
    # Demos and tests only: serve these human reference pairs on 127.0.0.1 and use them.
    reference_pairs: str = ""
    reference_latency: float = 0.0

    def settings_values(self) -> dict[str, object]:
        """The fields that are library settings, by the settings' names."""
        names = {f.name for f in fields(Settings)}
        return {k: v for k, v in self.model_dump().items() if k in names}


class DirectionConfig(BaseModel):
    src_lang: str
    tgt_lang: str
    inputs: list[str]
    # How the inputs are read, as the CLI's --format, --lenient-tags, --label-names, --columns
    format: Format = "auto"
    lenient_tags: bool = False
    label_names: list[str] = Field(default_factory=list)
    columns: dict[str, str | int] = Field(default_factory=dict)  # TOML {token = 1, tag = 2}
    # Translate even when the first sentences do not read as src_lang (checked before paying).
    force: bool = False

    def read_options(self) -> ReadOptions:
        """How this direction's inputs are read (the library's ReadOptions)."""
        columns = parse_columns(self.columns, f"{self.src_lang}-{self.tgt_lang} columns")
        return ReadOptions(self.format, self.lenient_tags, tuple(self.label_names), columns)


class ReviewConfig(BaseModel):
    # auto: Label Studio when LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY are set, else none.
    mode: Literal["auto", "none", "label-studio"] = "auto"
    project: str = "parallelner"
    # which pairs go to review: the library's RoutingSettings of the same names
    policy: Literal["routed", "all"] = _ROUTING.policy  # type: ignore[assignment]
    low_confidence: float = _ROUTING.low_confidence
    audit_rate: float = _ROUTING.audit_rate
    seed: int = _ROUTING.seed

    def routing(self) -> RoutingSettings:
        return RoutingSettings(self.policy, self.low_confidence, self.audit_rate, self.seed)

    def active(self) -> bool:
        if self.mode == "auto":
            return bool(
                os.environ.get("LABEL_STUDIO_URL") and os.environ.get("LABEL_STUDIO_API_KEY")
            )
        return self.mode == "label-studio"


class ExportConfig(BaseModel):
    include: Literal["auto", "reviewed"] = "auto"
    shard_rows: int = 50_000
    corpus: str = ""  # default: OUT/corpus


class CorpusConfig(BaseModel):
    """Everything a corpus build needs (the flows' parameters)."""

    out: str = "out/run"
    directions: list[DirectionConfig] = Field(default_factory=list)
    shard_size: int = 500
    parallel_shards: int = 2
    on_bad_record: Literal["fail", "skip"] = _SETTINGS.on_bad_record  # type: ignore[assignment]
    endpoint: EndpointConfig = Field(default_factory=EndpointConfig)
    # Thresholds as in the CLI's [filters]; by_pair: {"zh-en": {"untranslated_overlap": 0.4}}
    # adequacy: "checks" (the default), "round_trip", "judge" or "off"
    filters: dict[str, float | bool | str | dict[str, dict[str, float]]] = Field(
        default_factory=dict
    )
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)
    # "i/N": this run translates only partition i of N (the gather flow reviews and exports)
    partition: str = ""
    # A glossary file (TSV or JSONL): required renderings, in the prompts and checked
    glossary: str = _SETTINGS.glossary
    # Reasons whose rejected pairs this run translates again, e.g. ["glossary_mismatch"]
    retranslate: list[str] = Field(default_factory=lambda: list(_SETTINGS.retranslate))

    @property
    def out_dir(self) -> Path:
        return Path(self.out)

    @property
    def corpus_dir(self) -> Path:
        """The corpus folder (local); for an object store URI, use ``corpus_target``."""
        return Path(self.export.corpus) if self.export.corpus else self.out_dir / "corpus"

    @property
    def corpus_target(self) -> Path | str:
        """Where the export goes: a folder, or an object store URI (``s3://bucket/prefix``)."""
        return self.export.corpus if is_uri(self.export.corpus) else self.corpus_dir

    def settings(self) -> Settings:
        """The library's Settings: this file's values, then PARALLELNER_* from the environment."""
        values = {
            **self.endpoint.settings_values(),
            "on_bad_record": self.on_bad_record,
            "filters": self.filters,
            "partition": self.partition,
            "glossary": self.glossary,
            "retranslate": self.retranslate,
        }
        return load_settings(file_values=values)


def _resolve(path: str, base: Path) -> str:
    return path if not path or Path(path).is_absolute() else str((base / path).resolve())


def load_config(path: Path) -> CorpusConfig:
    """A CorpusConfig from TOML; relative paths are relative to the file's folder."""
    config = CorpusConfig.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    base = path.resolve().parent
    config.out = _resolve(config.out, base)
    if not is_uri(config.export.corpus):
        config.export.corpus = _resolve(config.export.corpus, base)
    config.endpoint.reference_pairs = _resolve(config.endpoint.reference_pairs, base)
    config.glossary = _resolve(config.glossary, base)
    for d in config.directions:
        d.inputs = [_resolve(p, base) for p in d.inputs]
    return config
