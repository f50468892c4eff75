"""One settings object: defaults < config file (TOML) < ``PARALLELNER_*`` environment < CLI flags.

Stages take the values they need as arguments; only the CLI and the flows see this object.
The API key comes from the environment only (``PARALLELNER_API_KEY`` or ``OPENAI_API_KEY``), is
held as a SecretStr and never written anywhere.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from parallelner.errors import ConfigError
from parallelner.formats import ReadOptions, parse_columns, parse_label_names
from parallelner.llm.structured import check_mode
from parallelner.reasons import REASONS
from parallelner.redact import remember

if TYPE_CHECKING:  # pydantic is imported when settings are loaded, not by `--help`
    from pydantic import SecretStr

ENV_PREFIX = "PARALLELNER_"
#: How adequacy is checked (parallelner/filters/adequacy.py).
ADEQUACY_METHODS = ("off", "checks", "round_trip", "judge")
#: Where requests go: an OpenAI-compatible HTTP endpoint, or vLLM in this process.
BACKENDS = ("openai", "vllm")
#: Values of the cache setting that switch the response cache off (not file names).
NO_CACHE = ("off", "none")


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
    # does the translation say what the source says: off, checks (numbers and words left
    # untranslated, free), round_trip (+ chrF of the back-translation) or judge (+ the model
    # scores it); parallelner/filters/adequacy.py
    adequacy: str = "checks"
    min_adequacy: float = 0.0  # 0 = the method's own (adequacy.MIN_ADEQUACY)
    # Thresholds of one language pair: {"en-zh": {"min_length_ratio": 0.9}, ...}
    by_pair: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def calls_llm(self) -> bool:
        """Whether a check sends LLM calls (verification, round trip, adequacy)."""
        return self.verify or self.round_trip or self.adequacy in ("round_trip", "judge")

    def for_pair(self, pair: str) -> FilterSettings:
        """The thresholds that apply to ``pair`` (``src-tgt``)."""
        own = self.by_pair.get(pair)
        return replace(self, **own) if own else self


@dataclass(frozen=True)
class RoutingSettings:
    """Which candidates go to review (``review push``, the flows' ``[review]``): ``routed``
    sends passed pairs under ``low_confidence`` plus an audit sample of ``audit_rate`` of the
    rest (drawn by ``seed``); ``all`` sends every passed pair."""

    policy: str = "routed"
    low_confidence: float = 0.9
    audit_rate: float = 0.05
    seed: int = 0


PAIR_THRESHOLDS = ("untranslated_overlap", "min_length_ratio", "max_length_ratio")
PAIR_THRESHOLDS += ("min_language_share", "langdetect_min_prob")


def parse_pair_thresholds(values: Mapping[str, object], source: str) -> dict[str, dict[str, float]]:
    """``{"en-zh": {"min_length_ratio": 0.9}}`` checked: pairs of language codes, known
    threshold names, numbers. ConfigError naming ``source`` otherwise."""
    out: dict[str, dict[str, float]] = {}
    for pair, thresholds in values.items():
        langs = str(pair).split("-")
        if len(langs) < 2 or not all(x.isalnum() for x in langs):
            raise ConfigError(f"{source}: {pair!r} is not a language pair like en-zh")
        if not isinstance(thresholds, Mapping):
            raise ConfigError(f"{source}: {pair}: expected threshold = value pairs")
        for name, value in thresholds.items():
            if name not in PAIR_THRESHOLDS:
                known = ", ".join(PAIR_THRESHOLDS)
                raise ConfigError(f"{source}: {pair}: unknown threshold {name!r} (known: {known})")
            try:
                out.setdefault(str(pair), {})[name] = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ConfigError(f"{source}: {pair}: {name}: {value!r} is not a number") from None
    return out


@dataclass(frozen=True)
class Settings:
    """Everything a run can be told; see docs/translate.md's configuration table."""

    base_urls: tuple[str, ...] = ("http://127.0.0.1:8000/v1",)
    model: str = ""
    escalate_model: str = ""
    backend: str = "openai"
    # how requests ask for JSON: auto probes each endpoint (parallelner.llm.structured)
    structured_output: str = "auto"
    concurrency: int = 64  # requests in flight, in all (shared by the workers)
    workers: int = 0  # translate worker processes; 0: one per core when there is work enough
    timeout: float = 120.0
    max_retries: int = 6
    max_attempts: int = 3
    recover: bool = True  # find an entity the reply's form misses before a repair round
    temperature: float = 0.0
    max_tokens: int = 2048
    cache: str = ""  # default: OUT/cache/responses.sqlite; "off" or "none": no cache
    rows_per_part: int = 1000
    on_bad_record: str = "fail"
    partition: str = ""  # "i/N": only the samples of that partition (run.partitions)
    glossary: str = ""  # a glossary file (TSV or JSONL): required renderings (glossary.entries)
    # reasons whose rejected candidates a run translates again (e.g. glossary_mismatch)
    retranslate: tuple[str, ...] = ()
    api_key: SecretStr | None = field(default=None, repr=False)
    filters: FilterSettings = FilterSettings()
    read: ReadOptions = ReadOptions()  # how input files are read (TOML [read])

    def cache_path(self, out_dir: Path) -> Path | None:
        """The response cache file, or None when switched off."""
        if self.cache.strip().lower() in NO_CACHE:
            return None
        return Path(self.cache) if self.cache else out_dir / "cache" / "responses.sqlite"

    def fingerprint(self, prompt_version: str) -> str:
        """sha256 of what decides a candidate (model, prompt version, rounds, decoding,
        filters), not of how fast it is made (concurrency, timeouts, endpoints) nor of the key."""
        decisive: dict[str, object] = {
            k: getattr(self, k)
            for k in (
                "model",
                "escalate_model",
                "max_attempts",
                "recover",
                "temperature",
                "max_tokens",
            )
        }
        decisive["filters"] = asdict(self.filters)
        decisive["prompt_version"] = prompt_version
        if self.glossary:  # its entries decide the prompts and the glossary check
            decisive["glossary"] = hashlib.sha256(Path(self.glossary).read_bytes()).hexdigest()
        blob = json.dumps(decisive, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def public(self) -> dict[str, object]:
        """The settings as plain values, without the API key (safe to log or persist)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "api_key"}
        values["filters"] = asdict(self.filters)
        values["read"] = asdict(self.read)
        values["base_urls"] = list(self.base_urls)
        values["retranslate"] = list(self.retranslate)
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


def _read_options(obj: ReadOptions, values: Mapping[str, object], source: str) -> ReadOptions:
    changes: dict[str, object] = {}
    for key, value in values.items():
        if value is None:
            continue
        where = f"{source} [read] {key}"
        if key == "columns":
            changes[key] = {**obj.columns, **parse_columns(value, where)}  # type: ignore[arg-type]
        elif key == "label_names":
            changes[key] = parse_label_names(value)  # type: ignore[arg-type]
        elif key in ("format", "lenient_tags"):
            changes[key] = _coerce(where, value, getattr(obj, key))
        else:
            known = ", ".join(f.name for f in fields(ReadOptions))
            raise ConfigError(f"{source} [read]: unknown setting {key!r} (known: {known})")
    return replace(obj, **changes)


def _apply(obj: Settings | FilterSettings, values: Mapping[str, object], source: str):
    known = {f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "api_key"}
    changes = {}
    for key, value in values.items():
        if value is None:
            continue
        if key not in known:
            raise ConfigError(f"{source}: unknown setting {key!r}")
        if key == "read" and isinstance(value, Mapping):
            changes[key] = _read_options(obj.read, value, source)  # type: ignore[union-attr]
        elif key == "filters" and isinstance(value, Mapping):
            changes[key] = _apply(obj.filters, value, f"{source} [filters]")  # type: ignore[union-attr]
        elif key == "by_pair" and isinstance(value, str | Mapping):
            if isinstance(value, str):  # the environment: JSON
                try:
                    value = json.loads(value)
                except ValueError:
                    raise ConfigError(f"{source} by_pair: not JSON: {value!r}") from None
                if not isinstance(value, Mapping):
                    raise ConfigError(f"{source} by_pair: expected a JSON object")
            merged = {**known[key], **parse_pair_thresholds(value, f"{source} by_pair")}
            changes[key] = merged
        elif key == "adequacy":
            method = str(value).strip().lower()
            if method not in ADEQUACY_METHODS:
                choices = ", ".join(ADEQUACY_METHODS)
                raise ConfigError(f"{source} adequacy: {value!r} is not one of {choices}")
            changes[key] = method
        elif key == "retranslate":
            reasons = _coerce(f"{source} {key}", value, ())
            unknown = [r for r in reasons if r not in REASONS]  # type: ignore[union-attr]
            if unknown:
                raise ConfigError(
                    f"{source} retranslate: {unknown[0]!r} is not a reason code "
                    f"(known: {', '.join(REASONS)})"
                )
            changes[key] = reasons
        elif key == "structured_output":
            try:
                changes[key] = check_mode(str(value).strip().lower(), f"{source} {key}")
            except ValueError as e:
                raise ConfigError(str(e)) from None
        else:
            changes[key] = _coerce(f"{source} {key}", value, known[key])
    return replace(obj, **changes)


def _from_env(env: Mapping[str, str]) -> tuple[dict[str, object], dict[str, object]]:
    top, filt = {}, {}
    for f in fields(Settings):
        name = f"{ENV_PREFIX}{f.name.upper()}"
        if f.name not in ("api_key", "filters", "read") and name in env:
            top[f.name] = env[name]
    if f"{ENV_PREFIX}BASE_URL" in env:
        top["base_urls"] = env[f"{ENV_PREFIX}BASE_URL"]
    for f in fields(FilterSettings):
        name = f"{ENV_PREFIX}FILTER_{f.name.upper()}"
        if name in env:
            filt[f.name] = env[name]
    read = {
        f.name: env[f"{ENV_PREFIX}READ_{f.name.upper()}"]
        for f in fields(ReadOptions)
        if f"{ENV_PREFIX}READ_{f.name.upper()}" in env
    }
    if read:
        top["read"] = read
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
    from pydantic import SecretStr

    check_ranges(settings)
    check_urls(settings.base_urls)
    if settings.glossary and not Path(settings.glossary).is_file():
        raise ConfigError(
            f"--glossary {settings.glossary}: no such file ({ENV_PREFIX}GLOSSARY, glossary in "
            "the config); `parallelner glossary build DIR` proposes one"
        )
    key = env.get(f"{ENV_PREFIX}API_KEY") or env.get("OPENAI_API_KEY")
    remember(key)  # redacted from every server text we store or print
    return replace(settings, api_key=SecretStr(key) if key else None)


#: The smallest value of each number setting (and whether it may equal it).
_RANGES: dict[str, tuple[float, bool, str]] = {
    "concurrency": (1, True, "1 or more (requests in flight)"),
    "workers": (0, True, "0 (one per core) or more"),
    "timeout": (0, False, "more than 0 seconds"),
    "max_retries": (0, True, "0 or more"),
    "max_attempts": (1, True, "1 or more (0 would write every sample rejected unasked)"),
    "max_tokens": (1, True, "1 or more"),
    "rows_per_part": (1, True, "1 or more"),
    "temperature": (0, True, "0 or more"),
}


def check_urls(urls: tuple[str, ...]) -> None:
    """ConfigError for a base URL that is no http(s) URL, or that holds credentials (they would
    reach logs and reports; the key goes in PARALLELNER_API_KEY), naming it without them."""
    from urllib.parse import urlsplit

    for url in urls:
        try:
            parts = urlsplit(url)
            port = parts.port  # ValueError for a port that is not a number
        except ValueError:
            parts, port = None, None
        shown = url
        if parts is not None and (parts.username or parts.password):
            host = parts.hostname or ""
            shown = f"{parts.scheme}://{host}{f':{port}' if port else ''}{parts.path}"
            raise ConfigError(
                f"--base-url {shown}: credentials do not go in the URL; set "
                f"{ENV_PREFIX}API_KEY (or OPENAI_API_KEY) to the key"
            )
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"--base-url {shown!r}: not an http(s) URL (e.g. http://127.0.0.1:8000/v1)"
            )


def check_ranges(settings: Settings) -> None:
    """ConfigError naming the flag, the variable and the config key of a number out of range,
    before anything is written or sent."""
    for name, (low, inclusive, what) in _RANGES.items():
        value = getattr(settings, name)
        ok = math.isfinite(value) and (value >= low if inclusive else value > low)
        if not ok:
            flag = name.replace("_", "-")
            raise ConfigError(
                f"--{flag} {value:g}: must be {what} (or {ENV_PREFIX}{name.upper()}, "
                f"{name} in the config)"
            )
