"""The shape every consistency check has: one object with a name, the reason codes it can
give, and one method that returns a ``Verdict``.

Like datatrove's ``BaseFilter``: the judge (``filters.judge``) runs a list of them, keeps a
named counter per check and reason, and never needs to know what a check looks at. A new check
is one module with one ``Check`` subclass, and one line in ``filters.CHECKS``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, NamedTuple

from parallelner.config import FilterSettings
from parallelner.glossary.entries import Glossary
from parallelner.llm.backend import ChatBackend
from parallelner.records import Candidate


class Verdict(NamedTuple):
    """What one check found in one candidate: the reasons it rejects it for (none: it
    passes), the score it gives for the confidence (None: it gives none) and what else the
    confidence or the report needs of it (``details``; a ``confidence_factor`` there scales
    the confidence: a check that cannot tell sends the pair to review). A tuple: one is made
    per check and candidate, so it is made cheaply."""

    reasons: tuple[str, ...] = ()
    score: float | None = None
    details: Mapping[str, object] = MappingProxyType({})

    @property
    def passed(self) -> bool:
        return not self.reasons


PASS = Verdict()


@dataclass(frozen=True)
class CheckContext:
    """What a check may need beyond a candidate and its thresholds: the run's glossary."""

    glossary: Glossary = field(default_factory=lambda: Glossary({}))


class Check(ABC):
    """One consistency check. ``gate``: when it rejects, the later checks are not run (a
    reply that is no reply has nothing to check)."""

    #: The check's name in report.json's ``checks`` counters.
    name: ClassVar[str]
    #: Every reason code it can give (each one in ``parallelner.reasons``).
    reasons: ClassVar[tuple[str, ...]]
    gate: ClassVar[bool] = False

    def __init__(self, context: CheckContext | None = None) -> None:
        self.context = context or CheckContext()

    @abstractmethod
    def check(self, c: Candidate, thresholds: FilterSettings) -> Verdict:
        """What this check finds in ``c``, under the thresholds of its language pair."""

    def figures(self) -> dict[str, object]:
        """The check's own counts for report.json (none by default)."""
        return {}


@dataclass(frozen=True)
class LLMAccess:
    """What the checks that call the LLM need (verification, round trip, adequacy): the
    backend, the model, and a back-translation of a candidate, which the run that composes
    translation and filters provides, so no check imports the translate stage."""

    backend: ChatBackend
    model: str
    back_translate: Callable[[Candidate], Awaitable[Candidate]]
