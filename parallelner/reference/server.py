"""The reference endpoint: an OpenAI-compatible chat server that answers from human translations.

For tests, the sample run and benchmarks; real runs point the same client at vLLM or an API.
Routes: ``POST /v1/chat/completions``, ``GET /v1/models``, and for tests ``GET /_admin/stats``,
``POST /_admin/faults`` (``{"faults": {pair_id: fault}, "latency": s, "formats": [...]}``),
``POST /_admin/reset``. Token usage is estimated as characters / 4, so reports have plausible
figures. ``formats``: the ``response_format`` types it takes (default ``json_schema``,
``json_object``, ``text``); any other is refused as llama-cpp-python refuses ``json_schema``
(HTTP 500, a request validation error). Probes (``parallelner.llm.probe``) are answered
``{"ok": true}`` and counted apart (``probes``), not in ``requests``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import re
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from parallelner.errors import ConfigError
from parallelner.io.atomic import write_text_atomically
from parallelner.llm.prompts import (
    load_adequacy_prompt,
    load_alignment_prompt,
    load_prompts,
)
from parallelner.llm.structured import PROBE_PROMPT
from parallelner.reference.faults import Fault, faulty_content, other_reference
from parallelner.reference.references import Reference, ReferenceIndex

ALIGNMENT_SCHEMA = "entity_alignment"  # the verification round's response_format name
ALL_FORMATS = frozenset({"json_schema", "json_object", "text"})
SPAN_SCHEMA = "entity_span"  # recovery's span question
ADEQUACY_SCHEMA = "adequacy"  # the adequacy judge
_JUDGED = re.compile(r"\nTranslation:\n(.*)\n\nDoes the translation", re.DOTALL)
_ASKED_FORM = re.compile(r'entity "(.*)" \([^()]*\)\?')


@dataclass
class ServerState:
    index: ReferenceIndex
    latency: float = 0.0
    api_key: str | None = None
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: int = 0
    by_pair: dict[str, int] = field(default_factory=dict)
    unknown: int = 0
    # requests being answered now, and the most at once, by response_format name ("" for
    # none): tests see whether a client overlaps its calls
    in_flight: dict[str, int] = field(default_factory=dict)
    most_in_flight: dict[str, int] = field(default_factory=dict)
    formats: frozenset[str] = ALL_FORMATS
    probes: int = 0
    by_schema: dict[str, int] = field(default_factory=dict)  # requests by _schema_name


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": "reference_server_error", "code": status}}
    return JSONResponse(body, status_code=status, headers=headers)


def _completion(model: str, content: str, messages: list[dict]) -> JSONResponse:
    prompt_chars = sum(len(str(m.get("content", ""))) for m in messages)
    usage = {"prompt_tokens": prompt_chars // 4 + 1, "completion_tokens": len(content) // 4 + 1}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return JSONResponse(
        {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
        }
    )


def _schema_name(body: dict) -> str:
    """The reply's kind: the json_schema name, else (json_object, prompt) the verification
    round's when its system prompt is the alignment prompt's, else ""."""
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and isinstance(fmt.get("json_schema"), dict):
        return str(fmt["json_schema"].get("name", ""))
    messages = body.get("messages") or [{}]
    first = messages[0] if isinstance(messages[0], dict) else {}
    if first.get("role") == "system" and first.get("content") == load_alignment_prompt().system:
        return ALIGNMENT_SCHEMA
    if first.get("role") == "system" and first.get("content") == load_adequacy_prompt().system:
        return ADEQUACY_SCHEMA
    if _asked_form(messages) is not None:
        return SPAN_SCHEMA
    return ""


def _asked_form(messages: list) -> str | None:
    """The source form a span question asks about, if the last message is one."""
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    content = last.get("content")
    prefix = load_prompts().ask_span.split("{", 1)[0]
    if last.get("role") != "user" or not isinstance(content, str) or not prefix:
        return None
    if not content.startswith(prefix):
        return None
    found = _ASKED_FORM.search(content)
    return found.group(1) if found else None


def _format_type(body: dict) -> str:
    fmt = body.get("response_format")
    return str(fmt.get("type", "text")) if isinstance(fmt, dict) else "text"


def _refuse_format(kind: str, formats: frozenset[str]) -> JSONResponse:
    """What llama-cpp-python 0.3.36 answers to a response_format type it does not take."""
    expected = " or ".join(f"'{f}'" for f in sorted(formats))
    message = (
        "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', "
        f"'type'), 'msg': \"Input should be {expected}\", 'input': '{kind}'}}"
    )
    body = {"error": {"message": message, "type": "internal_server_error", "code": None}}
    return JSONResponse(body, status_code=500)


def _is_probe(messages: list) -> bool:
    last = messages[-1] if messages else None
    return isinstance(last, dict) and last.get("content") == PROBE_PROMPT


async def _answer(state: ServerState, ref: Reference, model: str, body: dict, schema: str):
    """The reply for ``ref``; a verification round (schema ``entity_alignment``) is answered
    from the references too, and content faults do not touch it (they model the joint reply)."""
    messages = body["messages"]
    verify = schema == ALIGNMENT_SCHEMA
    if schema == SPAN_SCHEMA:  # answered from the references, never faulted
        form = _asked_form(messages) or ""
        return _completion(model, json.dumps(ref.span_answer(form), ensure_ascii=False), messages)
    if schema == ADEQUACY_SCHEMA:  # judged against the reference, never faulted
        judged = _JUDGED.search(str(messages[-1].get("content", "")))
        answer = ref.adequacy_answer(judged.group(1) if judged else "")
        return _completion(model, json.dumps(answer, ensure_ascii=False), messages)
    clean = ref.alignment_answer() if verify else ref.answer()
    seen = state.by_pair.get(ref.pair_id, 0)
    state.by_pair[ref.pair_id] = seen + 1
    fault = state.faults.get(ref.pair_id)
    if fault is not None and (fault.times is None or seen < fault.times):
        if fault.kind == "http_500":
            return _error(500, "injected server error")
        if fault.kind == "http_429":
            return _error(429, "injected rate limit", {"Retry-After": str(fault.retry_after)})
        if fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
        elif not verify:
            refs = list(state.index.by_text.values())
            content = faulty_content(fault, ref, other_reference(refs, ref))
            return _completion(model, content, messages)
    return _completion(model, json.dumps(clean, ensure_ascii=False), messages)


def build_app(state: ServerState) -> Starlette:
    """The Starlette app serving ``state``."""

    async def chat(request: Request) -> JSONResponse:
        if state.api_key is not None:
            given = request.headers.get("authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(given, state.api_key):
                return _error(401, "invalid API key")
        try:
            body = await request.json()
            messages = body["messages"]
            model = str(body.get("model", "reference"))
        except (json.JSONDecodeError, KeyError, TypeError):
            return _error(400, "the body must be JSON with messages")
        kind = _format_type(body)
        if _is_probe(messages):
            state.probes += 1
            if kind not in state.formats:
                return _refuse_format(kind, state.formats)
            return _completion(model, '{"ok": true}', messages)
        state.requests += 1
        if kind not in state.formats:
            return _refuse_format(kind, state.formats)
        schema = _schema_name(body)
        state.by_schema[schema] = state.by_schema.get(schema, 0) + 1
        now = state.in_flight[schema] = state.in_flight.get(schema, 0) + 1
        state.most_in_flight[schema] = max(now, state.most_in_flight.get(schema, 0))
        try:
            if state.latency:
                await asyncio.sleep(state.latency)
            ref = state.index.find(messages)
            if ref is None:
                state.unknown += 1
                return _error(400, "no reference translation for this sentence")
            return await _answer(state, ref, model, body, schema)
        finally:
            state.in_flight[schema] -= 1

    async def models(request: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": [{"id": "reference", "object": "model"}]})

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "requests": state.requests,
                "probes": state.probes,
                "unknown": state.unknown,
                "by_pair": state.by_pair,
                "by_schema": state.by_schema,
                "most_in_flight": state.most_in_flight,
            }
        )

    async def set_faults(request: Request) -> JSONResponse:
        body = await request.json()
        try:
            state.faults.update({k: Fault.parse(v) for k, v in body.get("faults", {}).items()})
        except (ValueError, TypeError) as e:
            return _error(400, str(e))
        if "latency" in body:
            state.latency = float(body["latency"])
        if "formats" in body:
            state.formats = frozenset(body["formats"]) if body["formats"] else ALL_FORMATS
        formats = sorted(state.formats)
        return JSONResponse(
            {"faults": len(state.faults), "latency": state.latency, "formats": formats}
        )

    async def reset(request: Request) -> JSONResponse:
        state.faults.clear()
        state.by_pair.clear()
        state.most_in_flight.clear()
        state.by_schema.clear()
        state.requests = state.unknown = state.probes = 0
        state.formats = ALL_FORMATS
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/_admin/stats", stats, methods=["GET"]),
            Route("/_admin/faults", set_faults, methods=["POST"]),
            Route("/_admin/reset", reset, methods=["POST"]),
        ]
    )


def load_faults(path: Path | None) -> dict[str, Fault]:
    """Faults from a JSON file ``{pair_id: "kind[:times]" | {"kind", "times", ...}}``."""
    if path is None:
        return {}
    return {k: Fault.parse(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: a free one), for uvicorn to serve on.

    Its protocol is named (IPPROTO_TCP): asyncio turns Nagle's algorithm off (TCP_NODELAY) only
    on connections whose socket says TCP, and with protocol 0 every reply, written as headers
    then body, waited for the client's delayed ACK: 40 ms on every request.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def serve(
    pairs: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    latency: float = 0.0,
    faults: Path | None = None,
    api_key_env: str | None = None,
    ready_file: Path | None = None,
) -> None:
    """Serve until interrupted; with ``port`` 0 a free port is taken and written to ready_file."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(f"--host {host}: the reference endpoint only binds to loopback")
    state = ServerState(ReferenceIndex(pairs), latency=latency, faults=load_faults(faults))
    if api_key_env:
        state.api_key = os.environ.get(api_key_env)
        if not state.api_key:
            raise ConfigError(f"--api-key-env: the variable {api_key_env} is not set")
    sock = listening_socket(host, port)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        build_app(state), log_level="warning", access_log=False, backlog=2048, timeout_keep_alive=30
    )
    server = uvicorn.Server(config)
    if ready_file is not None:
        write_text_atomically(ready_file, json.dumps({"port": bound, "pid": os.getpid()}))
    shown = f"[{host}]" if ":" in host else host
    print(f"reference server: http://{shown}:{bound}/v1 ({len(state.index)} pairs)", flush=True)
    server.run(sockets=[sock])
