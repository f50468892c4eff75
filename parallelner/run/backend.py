"""The backend a run's settings ask for, its response cache, and the structured-output mode
its endpoints take (one short probe each). openai is imported only by a run that calls it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from parallelner.config import BACKENDS, Settings
from parallelner.errors import ConfigError
from parallelner.llm.backend import ChatBackend
from parallelner.llm.cache import ResponseCache


def open_cache(settings: Settings, out_dir: Path) -> ResponseCache | None:
    """The response cache the settings name (None when ``cache`` is "off" or "none")."""
    path = settings.cache_path(out_dir)
    return ResponseCache(path) if path else None


def make_backend(settings: Settings, cache: ResponseCache | None) -> ChatBackend:
    """The chat backend the settings ask for: HTTP endpoints, or vLLM in this process."""
    if settings.backend == "vllm":
        from parallelner.llm.vllm_engine import VLLMEngineClient

        return VLLMEngineClient(settings.model, cache=cache)
    if settings.backend not in BACKENDS:
        raise ConfigError(f"--backend: {settings.backend!r} is not one of {', '.join(BACKENDS)}")
    from parallelner.llm.client import ChatClient  # imports openai: only a run that calls it

    return ChatClient(
        settings.base_urls,
        settings.api_key,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        cache=cache,
        connections=settings.concurrency,
        # "auto" left unresolved (no probe ran, e.g. nothing to send): the best mode
        structured_output=settings.structured_output.replace("auto", "json_schema"),
    )


def resolve_structured_output(settings: Settings) -> tuple[Settings, dict[str, object]]:
    """``settings`` with the structured-output mode every endpoint takes, found by one short
    probe request to each (EndpointError, one line, for one that is down, silent or wrong),
    and what the probe found, for report.json."""
    if settings.backend != "openai":
        note = "in-process vLLM decodes to the schema itself"
        return settings, {
            "requested": settings.structured_output,
            "used": "json_schema",
            "note": note,
        }
    from parallelner.llm.probe import probe  # imports openai: only a run that calls it

    result = probe(
        settings.base_urls,
        settings.api_key,
        settings.model,
        settings.structured_output,
        settings.timeout,
    )
    return replace(settings, structured_output=result.used), result.as_dict()
