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


def request_key(
    model: str, prompt_version: str, messages: Messages, params: Mapping[str, object]
) -> str:
    """The response cache's key of a request: sha256 of the canonical JSON of what determines
    a reply ({messages, model, params, prompt_version})."""
    return request_key_of(model, prompt_version, messages_json(messages), FrozenParams.of(params))


def request_key_of(model: str, prompt_version: str, messages: str, params: FrozenParams) -> str:
    """``request_key`` from already serialised parts (what the HTTP client has at hand): the
    one place the key is made."""
    blob = (
        f'{{"messages":{messages},"model":{_dumps(model)},"params":{params.canonical},'
        f'"prompt_version":{_dumps(prompt_version)}}}'
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class MalformedCompletion(ValueError):
    """The server's reply is not a chat completion of the expected shape."""


#: The most tokens one call can report; a larger count is not a count (``1e20``, ``1e400``).
MAX_TOKENS_REPORTED = 10_000_000


def _tokens(usage: dict, name: str) -> int:
    """A usage count, or 0 where the server sent no count or something that is not one
    (``"abc"``, negative, ``1e20``): unknown, not negative, never a traceback."""
    value = usage.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if value != value or not 0 <= value <= MAX_TOKENS_REPORTED or value != int(value):
        return 0
    return int(value)


def parse_completion(raw: bytes, model: str) -> ChatReply:
    """The reply's content, model and token counts from a chat completion's JSON bytes;
    MalformedCompletion (one short line, with the start of the body) for anything else."""

    def bad(why: str) -> MalformedCompletion:
        snippet = raw[:120].decode("utf-8", "replace")
        return MalformedCompletion(f"not a chat completion ({why}): {snippet!r}")

    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise bad("not JSON") from None
    if not isinstance(data, dict):
        raise bad(f"a JSON {type(data).__name__}, not an object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise bad("no choices")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise bad(f"message is a {type(message).__name__}, not an object")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise bad(f"content is a {type(content).__name__}, not a string")
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    named = data.get("model")
    return ChatReply(
        content=content or "",
        model=named if isinstance(named, str) and named else model,
        prompt_tokens=_tokens(usage, "prompt_tokens"),
        completion_tokens=_tokens(usage, "completion_tokens"),
    )
