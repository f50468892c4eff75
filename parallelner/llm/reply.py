"""Parse the LLM's joint-translation reply: ``{"translation", "entities": [{"id", "text"}]}``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from parallelner.records import RecordError, check_text


@dataclass(frozen=True, slots=True)
class Reply:
    """A well-formed reply: ``surfaces[i]`` is entity i+1's form in the translation, or None."""

    translation: str
    surfaces: tuple[str | None, ...]


class MalformedReply(ValueError):
    """The reply is not JSON of the required shape; the message says how."""


def _strip_fence(content: str) -> str:
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text


def _embedded_object(content: str) -> object:
    """The first JSON object in a reply that wraps it in words or a fence placed after some
    text (``Here is the translation: ```json {...} ``` ``), as models answer when no
    ``response_format`` constrains them (``--structured-output prompt``)."""
    decoder = json.JSONDecoder()
    start = content.find("{")
    while start != -1:
        try:
            obj, _ = decoder.raw_decode(content, start)  # strict: the whole reply failed
        except json.JSONDecodeError:
            start = content.find("{", start + 1)
            continue
        if isinstance(obj, dict):
            return obj
        start = content.find("{", start + 1)
    raise ValueError("no JSON object")


def json_object(content: str) -> dict:
    """The JSON object a reply holds (fenced, or after some words); MalformedReply if none."""
    try:
        # strict=False: a raw newline or tab inside a string (small models write them under
        # a json_object grammar) is read as itself, not a reason to drop the reply
        obj = json.loads(_strip_fence(content), strict=False)
    except json.JSONDecodeError as e:
        try:
            obj = _embedded_object(content)
        except (ValueError, RecursionError):
            raise MalformedReply(f"not valid JSON: {e.msg} at character {e.pos}") from None
    except RecursionError:
        raise MalformedReply("JSON nested too deep") from None
    if not isinstance(obj, dict):
        raise MalformedReply("not a JSON object")
    return obj


# A translation that runs on past its own end: the model closed the string with a curly
# quote and the object with "}", then began a fenced copy of the reply inside the string
# (seen from Qwen2.5-Coder-1.5B under llama-cpp-python's json_object grammar).
_OVERRUN = re.compile(r"\}\s*```")


def _translation(text: str) -> str:
    """``text`` up to where it ran over into the reply's own syntax, if it did."""
    overrun = _OVERRUN.search(text)
    return text[: overrun.start()].rstrip() if overrun else text


def _clean(text: str, what: str) -> str:
    """``text`` unless it holds what no UTF-8 file can (a NUL, a lone surrogate)."""
    try:
        check_text(text, what)
    except RecordError as e:
        raise MalformedReply(str(e)) from None
    return text


def parse_reply(content: str, n_entities: int) -> Reply:
    """The Reply in ``content``, for a sample with ``n_entities`` entities.

    Ids outside 1..n are ignored and a repeated id keeps its first form: the projection then
    reports what is missing, which is more useful than rejecting the whole reply.
    """
    obj = json_object(content)
    translation = obj.get("translation")
    if not isinstance(translation, str):
        raise MalformedReply('"translation" is missing or not a string')
    return Reply(_clean(_translation(translation), "the translation"), _surfaces(obj, n_entities))


def parse_alignment_reply(content: str, n_entities: int) -> tuple[str | None, ...]:
    """The verification round's reply: entity i+1's text in the translation, or None."""
    return _surfaces(json_object(content), n_entities)


def _surfaces(obj: dict, n_entities: int) -> tuple[str | None, ...]:
    entities = obj.get("entities", [])
    if not isinstance(entities, list):
        raise MalformedReply('"entities" is not a list')
    surfaces: list[str | None] = [None] * n_entities
    for item in entities:
        if not isinstance(item, dict):
            raise MalformedReply('an item of "entities" is not an object')
        ident, text = item.get("id"), item.get("text")
        valid = isinstance(ident, int) and isinstance(text, str) and 1 <= ident <= n_entities
        if valid and surfaces[ident - 1] is None:
            surfaces[ident - 1] = _clean(text, f"entity {ident}")
    return tuple(surfaces)
