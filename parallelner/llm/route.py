"""The chat completions route of one endpoint: prebuilt bytes posted on the HTTP client the
``openai`` client is given, its failures raised as openai's typed errors.

openai's raw route (``client.post(..., cast_to=httpx.Response)``) still runs its request
pipeline on every call: an options model copied twice, headers merged and validated, the URL
parsed and joined three times, an idempotency key, its own retry loop. Against a 1 s endpoint
with 256 in flight that was a fifth of the client's CPU (py-spy, 12,398 requests), and on a busy
event loop every millisecond of it delays the replies behind it. Nothing in it changes between
calls of a run, so it is done once here: the URL, the client's own default and auth headers and
the timeout are taken from the openai client when the route is built; each call builds one
``httpx2.Request`` of the body's bytes and sends it on the same HTTP client (openai's aiohttp
transport, or its default one), the way the openai client sends its own.

Errors are openai's, mapped as openai maps them (its README's table): a timeout is
``APITimeoutError``, any other transport failure ``APIConnectionError``, a 4xx/5xx the typed
``APIStatusError`` of its code with the server's message. Retries stay with the caller.
"""

from __future__ import annotations

import contextlib
import json
import ssl

import httpx2
import openai

# openai's status-code table (``APIStatusError`` for the rest below 500).
STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}


def status_error(response: httpx2.Response) -> openai.APIStatusError:
    """The typed error for an error ``response`` (read), worded as openai words it:
    ``Error code: 429 - <the server's message>``."""
    message = f"Error code: {response.status_code}"
    text = response.text.strip()
    body: object = text
    with contextlib.suppress(ValueError):
        body = json.loads(text)
    if isinstance(body, dict):
        body = body.get("error", body)
        if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
            message += f" - {body['message']}"
    code = response.status_code
    kind = openai.InternalServerError if code >= 500 else STATUS_ERRORS.get(code)
    return (kind or openai.APIStatusError)(message, response=response, body=body)


class ChatRoute:
    """``POST {base_url}/chat/completions`` on ``http``, the HTTP client ``client`` was built
    with; ``timeout`` in seconds, as the client's."""

    def __init__(self, client: openai.AsyncOpenAI, http: httpx2.AsyncClient, timeout: float):
        self.http = http
        self.url = httpx2.URL(str(client.base_url).rstrip("/") + "/chat/completions")
        headers = {**client.default_headers, **client.auth_headers}
        self.headers = httpx2.Headers({k: v for k, v in headers.items() if isinstance(v, str)})
        self.extensions = {"timeout": httpx2.Timeout(timeout).as_dict()}

    async def post(self, body: bytes) -> httpx2.Response:
        """The reply, read (status below 400), else openai's typed error."""
        request = httpx2.Request(
            "POST", self.url, headers=self.headers, content=body, extensions=self.extensions
        )
        try:
            response = await self.http.send(request)
        except httpx2.TimeoutException as e:
            raise openai.APITimeoutError(request=request) from e
        except (httpx2.RequestError, ssl.SSLError) as e:
            raise openai.APIConnectionError(request=request) from e
        if response.status_code >= 400:
            raise status_error(response)
        return response
