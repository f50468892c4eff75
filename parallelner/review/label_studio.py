"""The Label Studio server, through ``label-studio-sdk``: projects, task import, annotations.

Found through ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY`` (the SDK's own names). Every
call retries a down or restarting server with backoff, then fails with a clear error; a refused
token names the variable, never the token.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from typing import TypeVar

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError
from pydantic import SecretStr
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_delay
from tenacity.wait import wait_exponential_jitter

from parallelner.errors import ConfigError, ReviewServerError
from parallelner.redact import redact_error

T = TypeVar("T")
URL_ENV, KEY_ENV = "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, ApiError) and (exc.status_code or 0) in (408, 429, 502, 503, 504)


class LabelStudioServer:
    """One Label Studio, with retries around every call."""

    def __init__(
        self,
        url: str,
        api_key: SecretStr,
        *,
        retry_seconds: float = 120.0,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._sdk = LabelStudio(base_url=self.url, api_key=api_key.get_secret_value(), timeout=60)
        self.retry_seconds = retry_seconds
        # Where each retry is announced (default: a line on stderr; flows: the run logger).
        self.notify = notify or (lambda line: print(line, file=sys.stderr, flush=True))

    def retrying(self, what: str, error: BaseException, attempt: int, wait: float) -> None:
        """Say that ``what`` failed with ``error`` and is retried in ``wait`` seconds."""
        cause = f"HTTP {error.status_code}" if isinstance(error, ApiError) else type(error).__name__
        self.notify(
            f"{what}: Label Studio at {self.url} failed ({cause}); retry {attempt} in "
            f"{wait:.1f} s (gives up after {self.retry_seconds:.0f} s)"
        )

    @classmethod
    def from_env(
        cls,
        url: str | None = None,
        retry_seconds: float = 120.0,
        notify: Callable[[str], None] | None = None,
    ) -> LabelStudioServer:
        url = url or os.environ.get(URL_ENV)
        key = os.environ.get(KEY_ENV)
        if not url:
            raise ConfigError(f"{URL_ENV} is not set (e.g. http://127.0.0.1:8080)")
        if not key:
            raise ConfigError(f"{KEY_ENV} is not set (the token of a Label Studio user)")
        return cls(url, SecretStr(key), retry_seconds=retry_seconds, notify=notify)

    def call(
        self, what: str, fn: Callable[[], T], before_retry: Callable[[], None] | None = None
    ) -> T:
        """``fn()``, retried while the server is down or restarting; ``before_retry`` runs
        after each failure, before the next try (to see what a failed call did after all)."""

        def announce(state: RetryCallState) -> None:
            self.retrying(
                what,
                state.outcome.exception(),  # type: ignore[union-attr, arg-type]
                state.attempt_number,
                state.next_action.sleep,  # type: ignore[union-attr]
            )
            if before_retry is not None:
                before_retry()

        retrying = Retrying(
            retry=retry_if_exception(_transient),
            wait=wait_exponential_jitter(multiplier=0.5, max=10),
            stop=stop_after_delay(self.retry_seconds),
            reraise=True,
            before_sleep=announce,
        )
        try:
            return retrying(fn)
        except ApiError as e:
            if e.status_code in (401, 403):
                raise ConfigError(
                    f"{KEY_ENV} was refused by {self.url} (HTTP {e.status_code}): "
                    "set it to the API token of a Label Studio user"
                ) from None
            if _transient(e):
                raise ReviewServerError(
                    f"{what}: Label Studio at {self.url} kept failing for "
                    f"{self.retry_seconds:.0f} s (HTTP {e.status_code}); rerun to resume"
                ) from None
            said = redact_error(" ".join(str(e.body).split()))[:300]
            raise ReviewServerError(f"{what}: HTTP {e.status_code}: {said}") from None
        except httpx.TransportError as e:
            raise ReviewServerError(
                f"{what}: Label Studio at {self.url} is unreachable ({type(e).__name__}) after "
                f"{self.retry_seconds:.0f} s of retries; start it, then rerun to resume"
            ) from None

    def ensure_project(self, title: str, label_config: str) -> int:
        """The id of the project titled ``title``, created if missing.

        An existing project is reused only if its labeling config is ours: tasks pushed into a
        differently shaped project would not round-trip.
        """
        found = self.call("list projects", lambda: list(self._sdk.projects.list(title=title)))
        for project in found:
            if project.title == title:
                existing = self.call(
                    "get project", lambda pid=project.id: self._sdk.projects.get(id=pid)
                )
                if _squash(existing.label_config or "") != _squash(label_config):
                    raise ConfigError(
                        f"Label Studio project {title!r} exists with another labeling config; "
                        "use another --project name"
                    )
                return project.id
        created = self.call(
            "create project",
            lambda: self._sdk.projects.create(
                title=title,
                label_config=label_config,
                description="parallelner review: approve, fix or reject translated NER pairs",
                show_collab_predictions=True,
                maximum_annotations=1,
            ),
        )
        return created.id

    def tasks(self, project_id: int, page_size: int = 500) -> Iterator[dict]:
        """Every task of the project with its data and annotations, page by page."""
        page = 1
        while True:
            try:
                items = self.call(
                    "list tasks",
                    lambda n=page: (
                        self._sdk.tasks.list(
                            project=project_id, page=n, page_size=page_size, fields="all"
                        ).items
                    ),
                )
            except ReviewServerError as e:
                if "Invalid page" in str(e):  # asked one page past the last
                    return
                raise
            for task in items:
                yield task.dict()
            if len(items) < page_size:
                return
            page += 1

    def import_tasks(self, project_id: int, tasks: list[dict]) -> list[int]:
        """Import ``tasks`` (one request, retried); the new task ids."""
        response = self.call(
            "import tasks",
            lambda: self._sdk.projects.import_tasks(
                id=project_id, request=tasks, return_task_ids=True
            ),
        )
        return list(response.task_ids or [])

    def users(self) -> dict[int, str]:
        """User ids to e-mail addresses (to name reviewers)."""
        return {
            u.id: u.email for u in self.call("list users", lambda: list(self._sdk.users.list()))
        }

    @property
    def sdk(self) -> LabelStudio:
        return self._sdk


def _squash(xml: str) -> str:
    return "".join(xml.split())
