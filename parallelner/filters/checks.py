"""The registered consistency checks, in the order the judge runs them. A new check is a
``Check`` subclass in a module of its own and one line here."""

from __future__ import annotations

from parallelner.filters.alignment import AlignmentCheck
from parallelner.filters.base import Check
from parallelner.filters.copying import CopyingCheck
from parallelner.filters.entities import EntitiesCheck
from parallelner.filters.glossary import GlossaryCheck
from parallelner.filters.language import LanguageCheck
from parallelner.filters.length import LengthCheck
from parallelner.filters.markup import MarkupCheck
from parallelner.filters.reply import EmptyCheck, MalformedReplyCheck

CHECKS: tuple[type[Check], ...] = (
    MalformedReplyCheck,
    EmptyCheck,
    LanguageCheck,
    CopyingCheck,
    LengthCheck,
    EntitiesCheck,
    AlignmentCheck,
    MarkupCheck,
    GlossaryCheck,
)
