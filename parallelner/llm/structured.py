"""How a request asks for JSON, in the form a server takes (``--structured-output``).

``json_schema``: OpenAI's ``{"type": "json_schema", "json_schema": {...}}`` (vLLM, SGLang,
OpenAI, llama.cpp's ``llama-server``); ``json_object``: ``{"type": "json_object", "schema":
...}`` (llama-cpp-python, Ollama's OpenAI route, and servers that constrain to JSON only);
``prompt``: no ``response_format`` at all, the prompt alone asks for the JSON (any server).
``auto`` probes each endpoint once before the run and steps down this list at a refusal.

Light on purpose: the reference server and the CLI import it; the probe itself is in
``probe.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

StructuredOutput = Literal["auto", "json_schema", "json_object", "prompt"]
STRUCTURED_OUTPUTS: tuple[str, ...] = ("auto", "json_schema", "json_object", "prompt")
#: The modes ``auto`` tries, best first.
STEP_DOWN: tuple[str, ...] = ("json_schema", "json_object", "prompt")

#: The probe's one short request: a schema and a prompt any model answers in a few tokens.
PROBE_NAME = "parallelner_probe"
PROBE_PROMPT = 'Reply with this JSON object and nothing else: {"ok": true}'
PROBE_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}


def check_mode(value: str, source: str = "--structured-output") -> str:
    """``value`` when it is a mode; ValueError naming ``source`` otherwise."""
    if value not in STRUCTURED_OUTPUTS:
        raise ValueError(f"{source}: {value!r} is not one of {', '.join(STRUCTURED_OUTPUTS)}")
    return value


def with_mode(params: Mapping[str, object], mode: str) -> Mapping[str, object]:
    """``params`` (whose ``response_format`` is a ``json_schema`` one) as ``mode`` sends them:
    the same object for ``json_schema`` (and ``auto``, not yet resolved)."""
    fmt = params.get("response_format")
    if not isinstance(fmt, Mapping) or mode in ("json_schema", "auto"):
        return params
    if mode == "prompt":
        return {k: v for k, v in params.items() if k != "response_format"}
    inner = fmt.get("json_schema")
    schema = inner.get("schema") if isinstance(inner, Mapping) else None
    json_object: dict[str, object] = {"type": "json_object"}
    if schema is not None:
        json_object["schema"] = schema
    return {**params, "response_format": json_object}


def probe_params(mode: str) -> dict[str, object]:
    """The probe's decoding parameters in ``mode``."""
    params: dict[str, object] = {
        "temperature": 0.0,
        "max_tokens": 16,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": PROBE_NAME, "schema": PROBE_SCHEMA, "strict": True},
        },
    }
    return dict(with_mode(params, mode))


def refuses_the_request(status: int, message: str) -> bool:
    """Whether an error response says the request itself is invalid (a field the server does
    not take), not that the server is unwell: a 400/422, or a 5xx whose body is a request
    validation error (llama-cpp-python answers ``json_schema`` with HTTP 500 and pydantic's
    ``1 validation error: ... ('body', 'response_format', 'type')``). Never worth a retry."""
    text = message.lower()
    if status in (400, 422):
        return True
    return status >= 500 and "validation error" in text and "body" in text
