"""The measured figures the docs show for the bundled sample, produced, never typed: the
candidates table of the README's quick start and the evaluation table of docs/export.md.

Translates the sample both ways through the reference endpoint (as ``make run`` does), exports
it and evaluates it against the sample's gold pairs, then writes each table between its
``<!-- sample-figures:NAME -->`` and ``<!-- /sample-figures -->`` markers. ``tests/test_docs.py``
runs ``render`` and checks that the files hold what it gives.

    .venv/bin/python scripts/sample_figures.py
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"candidates": REPO / "README.md", "evaluation": REPO / "docs" / "export.md"}
_BLOCK = re.compile(r"(<!-- sample-figures:(\w+) -->\n)(.*?)(<!-- /sample-figures -->)", re.S)


def measure() -> tuple[dict, dict]:
    """report.json of the sample translated both ways, and its evaluation."""
    sys.path.insert(0, str(REPO))
    from parallelner.config import load_settings
    from parallelner.export.corpus import export_job
    from parallelner.reference.process import ReferenceServer
    from parallelner.report.evaluate import evaluate
    from parallelner.run.jobs import translate_job

    sample = REPO / "sample"
    with tempfile.TemporaryDirectory(prefix="parallelner-figures-") as tmp:
        run = Path(tmp) / "run"
        with ReferenceServer(sample / "pud-pairs.jsonl") as ref:
            settings = load_settings(
                overrides={"base_urls": [ref.base_url], "model": "reference"}, env={}
            )
            report = {}
            for src, tgt in (("en", "zh"), ("zh", "en")):
                report = translate_job([sample / f"{src}-pud.iob2"], run, src, tgt, settings)
        export_job(run, Path(tmp) / "corpus")
        return report, evaluate(Path(tmp) / "corpus", sample / "pud-pairs.jsonl")


def render(report: dict, evaluation: dict) -> dict[str, str]:
    """Each block's Markdown."""
    rows = [
        "| pair | total | passed | rejected | failed | pass rate |",
        "|---|---|---|---|---|---|",
    ]
    for pair, p in report["by_pair"].items():
        rows.append(
            f"| {pair} | {p['total']} | {p['passed']} | {p['rejected']} | {p['failed']} | "
            f"{p['pass_rate']:.1%} |"
        )
    reasons = ", ".join(f"`{r}` {n}" for r, n in report["by_reason"].items())
    candidates = "\n".join(rows) + f"\n\nReasons (a pair may have several): {reasons}.\n"
    table = ["| | exact P | exact R | exact F1 | overlap F1 |", "|---|---|---|---|---|"]
    for label, exact in evaluation["scores"]["exact"].items():
        over = evaluation["scores"]["overlap"][label]
        table.append(
            f"| {label} | {exact['precision']:.3f} | {exact['recall']:.3f} | {exact['f1']:.3f} "
            f"| {over['f1']:.3f} |"
        )
    missing = ", ".join(
        f"{pair.replace('-', '→').upper()} {share:.0%}"
        for pair, share in evaluation["missing_share"].items()
    )
    return {
        "candidates": candidates,
        "evaluation": "\n".join(table) + f"\n\nMissing from the corpus (rejected): {missing}.\n",
    }


def apply(text: str, blocks: dict[str, str]) -> str:
    """``text`` with each marked block replaced by its figures."""
    return _BLOCK.sub(lambda m: m.group(1) + blocks[m.group(2)] + m.group(4), text)


def main() -> None:
    blocks = render(*measure())
    for name, path in TARGETS.items():
        path.write_text(apply(path.read_text(encoding="utf-8"), blocks), encoding="utf-8")
        print(f"wrote {name} into {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
