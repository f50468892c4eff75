"""docs/cli.md from the CLI's own parsers, so the help and the reference cannot drift
(``tests/test_docs.py`` checks the file is current). Run: .venv/bin/python scripts/cli_reference.py
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "docs" / "cli.md"
WIDTH = "100"


def _commands(parser: argparse.ArgumentParser, name: str):
    """(``parallelner review push``, its parser) for the top level and every subcommand."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, p in action.choices.items():
                yield from _commands(p, f"{name} {sub}")


def render() -> str:
    os.environ["COLUMNS"] = WIDTH  # argparse wraps to the terminal: the same width everywhere
    sys.path.insert(0, str(REPO))
    from parallelner.cli import _parser

    parts = [
        "# Command-line reference\n",
        "Generated from the parsers by `scripts/cli_reference.py` (a test checks it is current);",
        "`parallelner COMMAND --help` prints the same. Settings also come from a TOML file",
        "(`--config`) and `PARALLELNER_*` variables:",
        "[configuration](translate.md#translate-a-corpus).\n",
    ]
    for name, parser in _commands(_parser(), "parallelner"):
        parser.prog = name
        parts.append(f"## `{name}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(REPO)}")
