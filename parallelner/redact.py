"""Secrets never land: every text from a server that we store or print (reply bodies, error
bodies, Label Studio errors) goes through ``redact`` first, which replaces the API key, the
Label Studio token, the object store's secret and URL credentials with ``***``.

A server or a debugging proxy may echo the request's ``Authorization`` header back; without
this the key would reach the candidate parts (``raw_reply``), ``report.json``, the response
cache and the terminal. The secrets are the values of the variables that hold them
(``SECRET_ENV``) and any a caller registers (``remember``: a key read from elsewhere).
"""

from __future__ import annotations

import os
import re

#: The environment variables whose values are secrets.
SECRET_ENV = (
    "PARALLELNER_API_KEY",
    "OPENAI_API_KEY",
    "LABEL_STUDIO_API_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "HF_TOKEN",
    "PARALLELNER_REFERENCE_KEY",
)
MASK = "***"
_MIN_LENGTH = 4  # shorter values would mask ordinary words
_remembered: set[str] = set()
# In error texts: "Authorization: Bearer sk-...", "user:pass@" in a URL, "api_key=..." in a
# query or a JSON body (not in reply contents: a translation may say "Bearer bonds")
_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic|token)(\s+|%20)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(://)[^/\s:@]+:[^/\s@]+@"),
    re.compile(r"(?i)\b(api[_-]?key|access[_-]?token|secret)(=|%3D|\"?\s*:\s*\"?)[^&\s\"']{4,}"),
)


def remember(secret: str | None) -> None:
    """Treat ``secret`` as a secret from now on, in this process."""
    if secret and len(secret) >= _MIN_LENGTH:
        _remembered.add(secret)


def _secrets() -> list[str]:
    found = {v for name in SECRET_ENV if len(v := os.environ.get(name, "")) >= _MIN_LENGTH}
    return sorted(found | _remembered, key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` (a reply's content) with every known secret replaced by ``***``."""
    if not text:
        return text
    for secret in _secrets():
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_error(text: str) -> str:
    """``text`` (an error from a server, a message to print) with every known secret, bearer
    token, URL credential and ``api_key=`` value replaced by ``***``."""
    text = redact(text)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)}{MASK}@", text)
    return _PATTERNS[2].sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
