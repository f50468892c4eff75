"""``leaked_markup``: the translation carries markup that the source does not, which a model
leaks into the text it was asked for: a code fence, the reply contract's own keys, a tag or a
chat template's special token, a "Translation:" label in front. A corpus sentence holding
``<|im_end|>`` or ``"translation":`` teaches a trainer the wrong thing, whatever its entities.

>>> from parallelner.records import Candidate
>>> c = Candidate("s:en-zh", "s", "en", "zh", "It rains.", "翻译：下雨了。", (), (), "passed")
>>> MarkupCheck().check(c, FilterSettings()).reasons
('leaked_markup',)
"""

from __future__ import annotations

import re

from parallelner.config import FilterSettings
from parallelner.filters.base import PASS, Check, Verdict
from parallelner.reasons import LEAKED_MARKUP
from parallelner.records import Candidate

#: What a model leaks, each matched in the translation and, to count, absent from the source.
_LEAKS = (
    re.compile(r"```"),
    re.compile(r"\"(?:translation|entities)\"\s*:"),  # the reply contract's keys
    re.compile(r"<\|[^|<>]{1,40}\|>"),  # chat templates' special tokens: <|im_end|>
    re.compile(r"</?(?:think|s|br|p|div|span|b|i)\b[^<>]{0,40}>", re.I),
    re.compile(r"^\s*(?:translation|translated text|翻译|译文|譯文)\s*[:：]", re.I),
)


class MarkupCheck(Check):
    """``leaked_markup``: markup in the translation that the source does not hold."""

    name = "markup"
    reasons = (LEAKED_MARKUP,)

    def check(self, c: Candidate, thresholds: FilterSettings) -> Verdict:
        for leak in _LEAKS:
            if leak.search(c.tgt_text) and not leak.search(c.src_text):
                return Verdict((LEAKED_MARKUP,))
        return PASS
