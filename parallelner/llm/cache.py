"""A persistent response cache, so a rerun never pays twice for a finished LLM call.

SQLite in WAL mode: one file, safe across processes, a row per distinct request. The key covers
what determines the reply (model, prompt version, messages, decoding parameters), never the
endpoint URL or the API key, so a pool of replicas shares one cache and no secret is stored.
Replies are written in batches, one transaction per ``FLUSH_ROWS`` replies or ``FLUSH_SECONDS``
(and at close): a killed run loses at most the calls in flight and the last quarter second's
replies, and pays for those again on the rerun.
"""

from __future__ import annotations

import errno
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from parallelner.errors import ConfigError

T = TypeVar("T")

Messages = list[dict[str, str]]

FLUSH_ROWS = 256
FLUSH_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class ChatReply:
    """What one chat completion returned, and whether it came from the cache."""

    content: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False


class CacheError(ConfigError):
    """The cache file cannot be used; the message names it and what to do."""


BUSY_SECONDS = 60.0


def _switch_to_wal(db: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode=WAL``, waiting up to BUSY_SECONDS for other processes: when
    several open a new cache at once (the workers of a run), SQLite answers the switch with
    "database is locked" at once instead of calling its busy handler (3 processes opening one
    new file at the same moment: 16 of 40 tries failed)."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class ResponseCache:
    """Finished replies by request key."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = self._guarded(self._connect)
        self._pending: dict[str, tuple[object, ...]] = {}
        self._flushed_at = time.monotonic()

    def _connect(self) -> sqlite3.Connection:
        # Several processes share one cache (translate workers, partition runs): wait for a
        # writer up to BUSY_SECONDS, from the first statement on (switching to WAL needs a lock);
        # connect's timeout is SQLite's busy timeout, set before any statement runs.
        db = sqlite3.connect(
            self.path, timeout=BUSY_SECONDS, check_same_thread=False, isolation_level=None
        )
        _switch_to_wal(db)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, model TEXT NOT NULL,"
            " prompt_version TEXT NOT NULL, content TEXT NOT NULL, prompt_tokens INTEGER,"
            " completion_tokens INTEGER, created REAL)"
        )
        db.execute("SELECT key FROM replies LIMIT 1").fetchall()
        return db

    def _guarded(self, action: Callable[[], T]) -> T:
        """``action()``; a broken file becomes one line naming it (a full disk an OSError)."""
        try:
            return action()
        except sqlite3.DatabaseError as e:
            if "full" in str(e):
                raise OSError(errno.ENOSPC, "No space left on device", str(self.path)) from None
            raise CacheError(
                f"{self.path}: the response cache is unreadable ({e}); delete it (finished "
                "calls are then paid again) or pass --cache with another file"
            ) from None

    def get(self, key: str) -> ChatReply | None:
        if (waiting := self._pending.get(key)) is not None:
            _, model, _, content, prompt_tokens, completion_tokens, _ = waiting
            return ChatReply(content, model, prompt_tokens, completion_tokens, cached=True)  # type: ignore[arg-type]
        query = "SELECT content, model, prompt_tokens, completion_tokens FROM replies WHERE key = ?"
        # fetchall: the statement runs to its end, so no read transaction stays open (a stale
        # one would make this connection's next write fail at once in WAL mode)
        rows = self._guarded(lambda: self._db.execute(query, (key,)).fetchall())
        if not rows:
            return None
        row = rows[0]
        return ChatReply(row[0], row[1], row[2] or 0, row[3] or 0, cached=True)

    def put(self, key: str, prompt_version: str, reply: ChatReply) -> None:
        values = (
            key,
            reply.model,
            prompt_version,
            reply.content,
            reply.prompt_tokens,
            reply.completion_tokens,
            time.time(),
        )
        self._pending[key] = values
        if len(self._pending) >= FLUSH_ROWS or time.monotonic() - self._flushed_at >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the waiting replies in one transaction."""
        self._flushed_at = time.monotonic()
        if not self._pending:
            return
        rows = list(self._pending.values())

        def write() -> None:
            # IMMEDIATE: take the write lock first (waiting for it). A deferred transaction that
            # reads, then writes after another process committed, fails at once with "database
            # is locked" in WAL mode, without waiting.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO replies VALUES (?,?,?,?,?,?,?)", rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

        self._guarded(write)
        self._pending.clear()

    def __len__(self) -> int:
        self.flush()
        return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._db.close()
