"""Errors a user can act on: they name the file, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input at ``path:line``; the CLI prints it as ``path:line: message`` and exits 2."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"

    def __reduce__(self) -> tuple[type, tuple[str, int | None, str]]:
        return (type(self), (self.path, self.line, self.message))  # picklable: workers send it


class ConfigError(Exception):
    """A setting that is missing or wrong; the message names the flag or variable."""


class EndpointError(Exception):
    """A failure of the LLM endpoint no retry can fix (bad key, unknown model, unreachable);
    the run stops with this message."""


class ReviewServerError(Exception):
    """Label Studio stayed unreachable (or kept failing) for the whole retry budget."""


class DiskFull(OSError):
    """The disk filled up; the message says what was kept (the CLI prints it, exit 6)."""

    def __init__(self, message: str) -> None:
        import errno

        super().__init__(errno.ENOSPC, message)
        self.message = message

    def __str__(self) -> str:
        return self.message
