"""A persistent response cache, so a rerun never pays twice for a finished LLM call.

SQLite in WAL mode: one file, safe across processes, a row per distinct request. The key covers
what determines the reply (model, prompt version, messages, decoding parameters), never the
endpoint URL or the API key, so a pool of replicas shares one cache and no secret is stored.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

Messages = list[dict[str, str]]


@dataclass(frozen=True, slots=True)
class ChatReply:
    """What one chat completion returned, and whether it came from the cache."""

    content: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False


def request_key(
    model: str, prompt_version: str, messages: Messages, params: Mapping[str, object]
) -> str:
    """sha256 of the canonical JSON of what determines a reply."""
    blob = json.dumps(
        {"model": model, "prompt_version": prompt_version, "messages": messages, "params": params},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """Finished replies by request key."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, model TEXT NOT NULL,"
            " prompt_version TEXT NOT NULL, content TEXT NOT NULL, prompt_tokens INTEGER,"
            " completion_tokens INTEGER, created REAL)"
        )

    def get(self, key: str) -> ChatReply | None:
        row = self._db.execute(
            "SELECT content, model, prompt_tokens, completion_tokens FROM replies WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        return ChatReply(row[0], row[1], row[2] or 0, row[3] or 0, cached=True)

    def put(self, key: str, prompt_version: str, reply: ChatReply) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                reply.model,
                prompt_version,
                reply.content,
                reply.prompt_tokens,
                reply.completion_tokens,
                time.time(),
            ),
        )

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        self._db.close()
