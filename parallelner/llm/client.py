"""The chat client: the ``openai`` async client over a pool of OpenAI-compatible endpoints.

Retries transient failures (429, 5xx, timeouts, connection errors) with exponential backoff and
jitter, honouring ``Retry-After``; spreads requests over the pool by fewest in flight and routes
around an endpoint that just failed; answers from the response cache before any request.
Requests go out as bytes built once per call (``wire``) on the openai client's HTTP client
(``route``): the openai client's per-call transform and request pipeline are skipped, its
connection pool, headers and typed errors are kept.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import httpx2
import openai
from pydantic import SecretStr
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from parallelner.errors import EndpointError
from parallelner.io.open_files import allow_open_files
from parallelner.llm.backend import ClientStats, LLMCallFailed
from parallelner.llm.cache import ChatReply, Messages, ResponseCache
from parallelner.llm.route import ChatRoute
from parallelner.llm.structured import refuses_the_request, with_mode
from parallelner.llm.wire import (
    FrozenParams,
    MalformedCompletion,
    messages_json,
    parse_completion,
    request_body,
    request_key_of,
)
from parallelner.redact import redact, redact_error

# How long an endpoint that refused a connection or answered 5xx is passed over.
COOLDOWN_SECONDS = 2.0
# Before any request has succeeded, this many calls failing with one and the same error mean
# the endpoint (or the request) is wrong, not the samples: the run stops.
SAME_ERROR_LIMIT = 20


@dataclass
class _Endpoint:
    url: str
    client: openai.AsyncOpenAI
    route: ChatRoute
    in_flight: int = 0
    down_until: float = 0.0

    @classmethod
    def open(cls, url: str, key: str, timeout: float, connections: int) -> _Endpoint:
        http = _http_client(timeout, connections)
        client = openai.AsyncOpenAI(
            base_url=url,
            api_key=key,
            timeout=timeout,
            max_retries=0,  # tenacity retries, so failover and Retry-After are ours
            http_client=http,
        )
        return cls(url, client, ChatRoute(client, http, timeout))


def _http_client(timeout: float, connections: int) -> httpx2.AsyncClient:
    """openai's aiohttp transport (its README: "for improved concurrency performance"; measured
    here at 128 in flight: 3.6 ms of client CPU a request against 6.5 ms with the default
    transport, whose connection pool walks every connection on every request); openai's
    default one when aiohttp is not installed.

    Its pool holds ``connections`` (the requests this process may have in flight), all kept
    alive: openai's default pool (1,000 connections, 100 kept alive) held a run at
    ``--concurrency 2048`` to 1,000 requests in flight, unsaid (one worker made 982 req/s at
    1 s latency), and the default transport would close all but 100 after each reply."""
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
    try:
        return openai.DefaultAioHttpClient(timeout=timeout, limits=limits)
    except RuntimeError:
        return openai.DefaultAsyncHttpxClient(timeout=timeout, limits=limits)


def _connection_error(exc: Exception) -> Exception:
    """A refused connection, DNS or TLS failure as ``APIConnectionError``: openai's aiohttp
    transport reports them as a connect *timeout* (its exception map takes the first match),
    which would hide an endpoint that is down; the error it wraps tells them apart."""
    if not isinstance(exc, openai.APITimeoutError):
        return exc
    cause = exc.__cause__
    while cause is not None:
        if isinstance(cause, OSError) and not isinstance(cause, TimeoutError):
            error = openai.APIConnectionError(request=exc.request)
            error.__cause__ = cause
            return error
        cause = cause.__cause__ or cause.__context__
    return exc


def _is_transient(exc: BaseException) -> bool:
    """Worth sending again: a connection error, a timeout, 408/409/429 or a 5xx, except a 5xx
    whose body says the request is invalid (llama-cpp-python's 500 for ``json_schema``)."""
    if isinstance(exc, openai.APIConnectionError | openai.APITimeoutError):
        return True
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code in (408, 409, 429):
            return True
        return exc.status_code >= 500 and not refuses_the_request(
            exc.status_code, getattr(exc, "message", "") or str(exc)
        )
    return False


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """The delay a 429/503 asked for (``Retry-After`` in seconds or as a date), if any."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    if "retry-after-ms" in headers:
        try:
            return float(headers["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


class ChatClient:
    """Chat completions with retries, load spreading, failover and a response cache."""

    def __init__(
        self,
        base_urls: Sequence[str],
        api_key: SecretStr | None = None,
        *,
        timeout: float = 120.0,
        max_retries: int = 6,
        max_wait: float = 60.0,
        cache: ResponseCache | None = None,
        connections: int = 1000,
        structured_output: str = "json_schema",
    ) -> None:
        """``connections``: the requests this process sends at once (its share of
        ``--concurrency``); each endpoint's pool holds that many, since all may go to one.
        ``structured_output``: how every request asks for JSON (``structured.with_mode``),
        resolved by the probe before the run; part of each call's cache key."""
        if not base_urls:
            raise ValueError("at least one base URL is needed")
        allow_open_files(connections, len(base_urls))
        key = api_key.get_secret_value() if api_key else "EMPTY"
        self._endpoints = [_Endpoint.open(url, key, timeout, connections) for url in base_urls]
        self.cache = cache
        self.max_retries = max_retries
        self._backoff = wait_exponential_jitter(multiplier=0.5, max=max_wait, jitter=0.5)
        self._max_wait = max_wait
        self.stats = ClientStats()
        self.structured_output = structured_output
        self._succeeded = False
        self._same_error: dict[str, int] = {}
        self._frozen: dict[int, tuple[Mapping[str, object], FrozenParams]] = {}

    def _freeze(self, params: Mapping[str, object]) -> FrozenParams:
        """``params`` serialised, once per params object (a run passes the same one to every
        call; it must not be changed once passed)."""
        entry = self._frozen.get(id(params))
        if entry is None or entry[0] is not params:
            if len(self._frozen) >= 64:
                self._frozen.clear()
            sent = with_mode(params, self.structured_output)
            entry = self._frozen[id(params)] = (params, FrozenParams.of(sent))
        return entry[1]

    def _pick(self) -> _Endpoint:
        now = time.monotonic()
        up = [e for e in self._endpoints if e.down_until <= now]
        if not up:
            return min(self._endpoints, key=lambda e: e.down_until)
        return min(up, key=lambda e: e.in_flight)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after_seconds(exc)
        if asked is not None:
            return min(asked, self._max_wait)
        return self._backoff(state)

    def _before_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1

    async def complete(
        self,
        model: str,
        messages: Messages,
        *,
        prompt_version: str,
        params: Mapping[str, object],
    ) -> ChatReply:
        """The reply to ``messages``: from the cache, else from the pool (retried)."""
        frozen, sent = self._freeze(params), messages_json(messages)
        key = request_key_of(model, prompt_version, sent, frozen)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.stats.cache_hits += 1
            return hit
        body = request_body(model, sent, frozen)
        try:
            try:
                reply = await self._send(model, body)
            except Exception as failure:
                if not (self.max_retries > 0 and _is_transient(failure)):
                    raise
                reply = await self._retried(model, body, failure)
        except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
            raise EndpointError(
                f"the endpoint refused the API key (HTTP {e.status_code}): set "
                "PARALLELNER_API_KEY (or OPENAI_API_KEY) to a valid key"
            ) from None
        except openai.NotFoundError:
            raise EndpointError(
                f"model {model!r} or the chat completions route was not found at "
                f"{', '.join(e.url for e in self._endpoints)}: check --model and --base-url"
            ) from None
        except (TimeoutError, openai.APIError) as e:
            self.stats.failures += 1
            self._stop_if_dead(e)
            said = redact_error(f"{type(e).__name__}: {getattr(e, 'message', e)}")
            raise LLMCallFailed(said) from None
        self._succeeded = True
        if self.cache is not None:
            self.cache.put(key, prompt_version, reply)
        return reply

    async def _retried(self, model: str, body: bytes, failure: Exception) -> ChatReply:
        """The reply after the first attempt failed with ``failure`` (transient): tenacity's
        retries from there, with the schedule they have from the start (the first attempt is
        replayed as that failure, not sent again). A call that succeeds at once never builds a
        retry loop (3.6 % of the client's CPU at 256 in flight when every call did)."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_transient),
            wait=self._wait,
            stop=stop_after_attempt(self.max_retries + 1),
            before_sleep=self._before_retry,
            reraise=True,
        )
        first: Exception | None = failure
        async for attempt in retrying:
            with attempt:
                if first is not None:
                    made, first = first, None
                    raise made
                return await self._send(model, body)
        raise AssertionError("tenacity ended without a result")  # reraise=True: unreachable

    def _stop_if_dead(self, exc: BaseException) -> None:
        """EndpointError when no request has succeeded yet and the failure says the endpoint
        cannot be reached (refused, DNS, TLS) or every call failed with the same error."""
        if self._succeeded:
            return
        urls = ", ".join(e.url for e in self._endpoints)
        unreachable = isinstance(exc, openai.APIConnectionError) and not isinstance(
            exc, openai.APITimeoutError
        )
        cause = exc.__cause__ or exc.__context__
        detail = f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"
        if cause is not None:
            detail += f" ({str(cause).strip() or type(cause).__name__})"
        detail = redact_error(detail)
        if unreachable:
            raise EndpointError(
                f"cannot reach {urls}: {detail}; check --base-url and that the server is up, "
                "then rerun"
            )
        count = self._same_error[detail] = self._same_error.get(detail, 0) + 1
        if count >= SAME_ERROR_LIMIT and len(self._same_error) == 1:
            raise EndpointError(
                f"every request to {urls} failed with the same error ({count} of {count}): "
                f"{detail}; check --base-url, --model and the server, then rerun"
            )

    async def _send(self, model: str, body: bytes) -> ChatReply:
        endpoint = self._pick()
        endpoint.in_flight += 1
        self.stats.requests += 1
        try:
            response = await endpoint.route.post(body)
            try:
                reply = parse_completion(response.content, model)
                reply = replace(reply, content=redact(reply.content))  # an echoed key
            except MalformedCompletion as e:
                raise openai.APIResponseValidationError(response, None, message=str(e)) from None
        except Exception as raised:
            e = _connection_error(raised)
            self.stats.count_error(e)
            if isinstance(e, openai.APIConnectionError) or (
                isinstance(e, openai.APIStatusError) and e.status_code >= 500
            ):
                endpoint.down_until = time.monotonic() + COOLDOWN_SECONDS
            if e is raised:
                raise
            raise e from e.__cause__
        finally:
            endpoint.in_flight -= 1
        self.stats.prompt_tokens += reply.prompt_tokens
        self.stats.completion_tokens += reply.completion_tokens
        return reply

    async def aclose(self) -> None:
        for endpoint in self._endpoints:
            await endpoint.client.close()
