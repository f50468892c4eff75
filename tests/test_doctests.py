"""The worked examples in module docstrings are true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "parallelner.text.assignment",
    "parallelner.text.transliteration",
    "parallelner.filters.verification",
    "parallelner.export.tokens",
    "parallelner.text.projection",
    "parallelner.text.tagging",
    "parallelner.text.detokenize",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
