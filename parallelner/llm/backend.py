"""What the translate stage needs of a chat backend, without importing one: the protocol,
its counts, and the failure a sample records (``openai`` is imported only by the HTTP client)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from parallelner.llm.cache import ChatReply, Messages


class LLMCallFailed(Exception):
    """A request that still failed after every retry; the sample is marked ``failed``."""


@dataclass
class ClientStats:
    """Counts of one client's life: what was sent, retried, served from the cache."""

    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def count_error(self, exc: BaseException) -> None:
        name = type(exc).__name__
        self.errors[name] = self.errors.get(name, 0) + 1


class ChatBackend(Protocol):
    """What translate needs of a backend: ChatClient (HTTP) or VLLMEngineClient (in process)."""

    stats: ClientStats

    async def complete(
        self, model: str, messages: Messages, *, prompt_version: str, params: Mapping[str, object]
    ) -> ChatReply: ...

    async def aclose(self) -> None: ...
