"""One short request to each endpoint before a run: it answers, the route, model and key are
right, and which structured-output mode it takes (``auto`` steps down at a refusal).

A down, mistyped or silent endpoint stops the run here, within seconds (or ``--timeout``),
with one line, instead of after every sample's retries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import openai
from pydantic import SecretStr

from parallelner.errors import EndpointError
from parallelner.llm.structured import (
    PROBE_PROMPT,
    STEP_DOWN,
    probe_params,
    refuses_the_request,
)
from parallelner.llm.wire import MalformedCompletion, parse_completion
from parallelner.redact import redact_error

#: Words in a refusal that say it is about the structured-output request.
_ABOUT_FORMAT = ("response_format", "json_schema", "json_object", "schema", "grammar", "guided")


class Unreachable(EndpointError):
    """An endpoint that is down, mistyped or silent (a pool goes on without it)."""


@dataclass
class EndpointProbe:
    """What one endpoint said: the mode it takes, and what it refused on the way."""

    url: str
    mode: str
    seconds: float
    refused: dict[str, str] = field(default_factory=dict)  # mode -> the server's words
    note: str = ""


@dataclass
class ProbeResult:
    """The run's mode (the lowest any endpoint took: one mode, one cache key per call)."""

    requested: str
    used: str
    endpoints: list[EndpointProbe]

    def as_dict(self) -> dict[str, object]:
        return {
            "requested": self.requested,
            "used": self.used,
            "endpoints": [asdict(e) for e in self.endpoints],
        }


def _message(exc: openai.APIStatusError) -> str:
    """The server's words, on one line, at most 200 characters."""
    body = exc.body
    text = body.get("message") if isinstance(body, dict) else None
    if not isinstance(text, str):
        text = getattr(exc, "message", "") or str(exc)
    return redact_error(" ".join(text.split()))[:200]


async def _probe_one(
    url: str, key: str, model: str, requested: str, timeout: float
) -> EndpointProbe:
    modes = STEP_DOWN if requested == "auto" else (requested,)
    start = time.monotonic()
    refused: dict[str, str] = {}
    async with openai.AsyncOpenAI(
        base_url=url, api_key=key, timeout=timeout, max_retries=0
    ) as client:
        for mode in modes:
            try:
                raw = await client.chat.completions.with_raw_response.create(
                    model=model,
                    messages=[{"role": "user", "content": PROBE_PROMPT}],
                    **probe_params(mode),  # type: ignore[arg-type]
                )
                parse_completion(raw.content, model)
            except MalformedCompletion as e:
                raise EndpointError(
                    f"{url} answers, but {redact_error(str(e))}; check --base-url (an "
                    "OpenAI-compatible server's /v1)"
                ) from None
            except openai.APITimeoutError:
                raise Unreachable(
                    f"{url} accepted the connection but did not answer within --timeout "
                    f"{timeout:g} s: check the server (still loading a model? stuck?), or raise "
                    "--timeout"
                ) from None
            except openai.APIConnectionError as e:
                cause = e.__cause__ or e.__context__
                detail = redact_error(str(cause).strip()) if cause else ""
                raise Unreachable(
                    f"cannot reach {url}: {detail or 'connection failed'}; check --base-url and "
                    "that the server is up, then rerun"
                ) from None
            except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
                raise EndpointError(
                    f"{url} refused the API key (HTTP {e.status_code}): set PARALLELNER_API_KEY "
                    "(or OPENAI_API_KEY) to a valid key"
                ) from None
            except openai.NotFoundError:
                raise EndpointError(
                    f"model {model!r} or the chat completions route was not found at {url}: "
                    "check --model and --base-url (it ends in /v1 for most servers)"
                ) from None
            except openai.APIStatusError as e:
                said = _message(e)
                about_format = any(w in said.lower() for w in _ABOUT_FORMAT)
                if refuses_the_request(e.status_code, said) and (
                    about_format or e.status_code >= 500
                ):
                    refused[mode] = f"HTTP {e.status_code}: {said}"
                    continue
                if e.status_code in (429, 503) or e.status_code >= 500:
                    # alive but busy or unwell: the run's retries deal with it; mode unchecked
                    note = f"HTTP {e.status_code} to the probe; {mode} not checked"
                    return EndpointProbe(url, mode, time.monotonic() - start, refused, note)
                raise EndpointError(
                    f"{url} refused the probe request (HTTP {e.status_code}): {said}"
                ) from None
            return EndpointProbe(url, mode, time.monotonic() - start, refused)
    tried = "; ".join(f"{m}: {why}" for m, why in refused.items())
    hint = (
        "try --structured-output auto"
        if requested != "auto"
        else "check --model and the server's log"
    )
    raise EndpointError(f"{url} refused every structured-output mode tried ({tried}): {hint}")


async def probe_endpoints(
    urls: Sequence[str],
    api_key: SecretStr | None,
    model: str,
    requested: str,
    timeout: float,
) -> ProbeResult:
    """Probe every endpoint at once; EndpointError (one line) for the first that is wrong.
    An unreachable endpoint in a pool whose others answer is noted, not fatal: the run
    passes it over as it passes over a replica that dies."""
    key = api_key.get_secret_value() if api_key else "EMPTY"
    found = await asyncio.gather(
        *(_probe_one(u, key, model, requested, timeout) for u in urls), return_exceptions=True
    )
    for outcome in found:
        if isinstance(outcome, BaseException) and not isinstance(outcome, Unreachable):
            raise outcome
    answered = [e for e in found if isinstance(e, EndpointProbe)]
    if not answered:
        raise EndpointError(str(found[0])) from None
    used = max((e.mode for e in answered), key=STEP_DOWN.index)
    endpoints = [
        e if isinstance(e, EndpointProbe) else EndpointProbe(url, "", 0.0, note=str(e))
        for url, e in zip(urls, found, strict=True)
    ]
    return ProbeResult(requested, used, endpoints)


def probe(
    urls: Sequence[str], api_key: SecretStr | None, model: str, requested: str, timeout: float
) -> ProbeResult:
    """``probe_endpoints`` from synchronous code."""
    return asyncio.run(probe_endpoints(urls, api_key, model, requested, timeout))
