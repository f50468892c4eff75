"""The docs stay true: every relative link of the README and docs/ reaches a file and a heading
that exist, and docs/cli.md is what the parsers print today."""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_LINK = re.compile(r"\[[^\]]+\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors of the headings of a Markdown file (outside code blocks)."""
    found, inside = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = not inside
        elif not inside and (m := re.match(r"^#{1,6} (.*)", line)):
            text = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower())
            found.add(text.replace(" ", "-"))
    return found


def _links(path: Path) -> list[str]:
    text, inside, kept = path.read_text(encoding="utf-8"), False, []
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif not inside:
            kept += _LINK.findall(line)
    return kept


def test_every_relative_link_reaches_a_file_and_a_heading():
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in _links(page):
            if re.match(r"^[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            path = (page.parent / file).resolve() if file else page
            if not path.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def test_the_cli_reference_is_current():
    sys.path.insert(0, str(REPO / "scripts"))
    from cli_reference import TARGET, render

    assert TARGET.read_text(encoding="utf-8") == render(), "run scripts/cli_reference.py"


def test_the_readme_is_short():
    assert len((REPO / "README.md").read_bytes()) <= 15_500


def test_the_sample_figures_in_the_docs_are_measured_now():
    sys.path.insert(0, str(REPO / "scripts"))
    from sample_figures import TARGETS, apply, measure, render

    blocks = render(*measure())
    for name, path in TARGETS.items():
        text = path.read_text(encoding="utf-8")
        assert f"<!-- sample-figures:{name} -->" in text
        assert apply(text, blocks) == text, f"{path.name}: run scripts/sample_figures.py"
