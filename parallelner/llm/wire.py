"""A chat request as bytes on the wire, and its reply read back, at the cost of one JSON dump
and one JSON load per call.

The ``openai`` client's ``chat.completions.create`` walks every parameter (the response's JSON
schema included) through its type-driven transform on every call, builds typed models of the
reply, and costs more client CPU than the HTTP exchange itself. The decoding parameters of a run
do not change between calls, so they are serialised once (``FrozenParams``); each call dumps
only its messages, splices them into the body and the cache key; ``route`` sends the bytes on
the openai client's HTTP client, with its headers and typed errors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from parallelner.llm.cache import ChatReply, Messages


def _dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class FrozenParams:
    """The decoding parameters of a run (temperature, max_tokens, response_format, ...),
    serialised once: ``canonical`` as the cache key hashes them."""

    canonical: str

    @classmethod
    def of(cls, params: Mapping[str, object]) -> FrozenParams:
        return cls(_dumps(dict(params)))

    @property
    def members(self) -> str:
        """The parameters as JSON object members, to splice into a request body."""
        return self.canonical[1:-1]


def request_body(model: str, messages_json: str, params: FrozenParams) -> bytes:
    """The JSON body of a chat completion request."""
    members = f",{params.members}" if params.members else ""
    return f'{{"model":{_dumps(model)},"messages":{messages_json}{members}}}'.encode()


def messages_json(messages: Messages) -> str:
    """The canonical JSON of ``messages`` (sorted keys; what the key hashes and the body sends)."""
    return _dumps(messages)


def request_key_of(model: str, prompt_version: str, messages: str, params: FrozenParams) -> str:
    """``cache.request_key`` from already serialised parts: the same bytes are hashed
    (canonical JSON of {messages, model, params, prompt_version}), so old caches still answer."""
    blob = (
        f'{{"messages":{messages},"model":{_dumps(model)},"params":{params.canonical},'
        f'"prompt_version":{_dumps(prompt_version)}}}'
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class MalformedCompletion(ValueError):
    """The server's reply is not a chat completion (not JSON, or no choices)."""


def parse_completion(raw: bytes, model: str) -> ChatReply:
    """The reply's content, model and token counts from a chat completion's JSON bytes."""
    try:
        data = json.loads(raw)
        message = data["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError) as e:
        snippet = raw[:120].decode("utf-8", "replace")
        raise MalformedCompletion(f"not a chat completion ({e!r}): {snippet!r}") from None
    usage = data.get("usage") or {}
    return ChatReply(
        content=message.get("content") or "",
        model=data.get("model") or model,
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
    )
