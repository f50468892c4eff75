"""One settings object: defaults < config file (TOML) < ``PARALLELNER_*`` environment < CLI flags.

Stages take the values they need as arguments; only the CLI and the flows see this object.
The API key comes from the environment only (``PARALLELNER_API_KEY`` or ``OPENAI_API_KEY``), is
held as a SecretStr and never written anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from pydantic import SecretStr

from parallelner.errors import ConfigError

ENV_PREFIX = "PARALLELNER_"


@dataclass(frozen=True)
class FilterSettings:
    """Thresholds of the consistency filters (see ``parallelner/filters``)."""

    untranslated_overlap: float = 0.5
    min_length_ratio: float = 0.0  # 0 = use the per-language-pair band
    max_length_ratio: float = 0.0
    min_language_share: float = 0.5
    langdetect_min_prob: float = 0.7
    verify: bool = False  # the verification round of the entity pairing (one more LLM call)
    round_trip: bool = False


@dataclass(frozen=True)
class Settings:
    """Everything a run can be told; see the README's configuration table."""

    base_urls: tuple[str, ...] = ("http://127.0.0.1:8000/v1",)
    model: str = ""
    escalate_model: str = ""
    backend: str = "openai"
    concurrency: int = 64  # requests in flight, in all (shared by the workers)
    workers: int = 0  # translate worker processes; 0: one per core when there is work enough
    timeout: float = 120.0
    max_retries: int = 6
    max_attempts: int = 3
    temperature: float = 0.0
    max_tokens: int = 2048
    cache: str = ""  # default: OUT/cache/responses.sqlite; "off": no cache
    rows_per_part: int = 1000
    on_bad_record: str = "fail"
    api_key: SecretStr | None = field(default=None, repr=False)
    filters: FilterSettings = FilterSettings()

    def cache_path(self, out_dir: Path) -> Path | None:
        """The response cache file, or None when switched off."""
        if self.cache == "off":
            return None
        return Path(self.cache) if self.cache else out_dir / "cache" / "responses.sqlite"

    def fingerprint(self, prompt_version: str) -> str:
        """sha256 of what decides a candidate (model, prompt version, rounds, decoding,
        filters), not of how fast it is made (concurrency, timeouts, endpoints) nor of the key."""
        decisive: dict[str, object] = {
            k: getattr(self, k)
            for k in ("model", "escalate_model", "max_attempts", "temperature", "max_tokens")
        }
        decisive["filters"] = asdict(self.filters)
        decisive["prompt_version"] = prompt_version
        blob = json.dumps(decisive, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def public(self) -> dict[str, object]:
        """The settings as plain values, without the API key (safe to log or persist)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "api_key"}
        values["filters"] = asdict(self.filters)
        values["base_urls"] = list(self.base_urls)
        return values


def _coerce(name: str, value: object, like: object) -> object:
    if isinstance(like, bool):
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("1", "true", "yes", "on")
    if isinstance(like, tuple):
        items = value if isinstance(value, list | tuple) else str(value).split(",")
        return tuple(str(v).strip() for v in items if str(v).strip())
    try:
        return type(like)(value)  # type: ignore[call-arg]
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: {value!r} is not a valid {type(like).__name__}") from None


def _apply(obj: Settings | FilterSettings, values: Mapping[str, object], source: str):
    known = {f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "api_key"}
    changes = {}
    for key, value in values.items():
        if value is None:
            continue
        if key not in known:
            raise ConfigError(f"{source}: unknown setting {key!r}")
        if key == "filters" and isinstance(value, Mapping):
            changes[key] = _apply(obj.filters, value, f"{source} [filters]")  # type: ignore[union-attr]
        else:
            changes[key] = _coerce(f"{source} {key}", value, known[key])
    return replace(obj, **changes)


def _from_env(env: Mapping[str, str]) -> tuple[dict[str, object], dict[str, object]]:
    top, filt = {}, {}
    for f in fields(Settings):
        name = f"{ENV_PREFIX}{f.name.upper()}"
        if f.name not in ("api_key", "filters") and name in env:
            top[f.name] = env[name]
    if f"{ENV_PREFIX}BASE_URL" in env:
        top["base_urls"] = env[f"{ENV_PREFIX}BASE_URL"]
    for f in fields(FilterSettings):
        name = f"{ENV_PREFIX}FILTER_{f.name.upper()}"
        if name in env:
            filt[f.name] = env[name]
    return top, filt


def load_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, object] | None = None,
    env: Mapping[str, str] | None = None,
    file_values: Mapping[str, object] | None = None,
) -> Settings:
    """Settings from defaults, ``config_file`` (or ``file_values``, already parsed), the
    environment and ``overrides`` (CLI flags), each overriding the one before."""
    env = os.environ if env is None else env
    settings = _apply(Settings(), dict(file_values or {}), "config")
    if config_file is not None:
        try:
            data = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"{config_file}: {e}") from None
        settings = _apply(settings, data.get("parallelner", data), str(config_file))
    top, filt = _from_env(env)
    settings = _apply(settings, {**top, "filters": filt}, "environment")
    settings = _apply(settings, dict(overrides or {}), "command line")
    key = env.get(f"{ENV_PREFIX}API_KEY") or env.get("OPENAI_API_KEY")
    return replace(settings, api_key=SecretStr(key) if key else None)
