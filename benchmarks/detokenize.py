"""Text rebuilt from tokens against the text the authors wrote: parallelner's rules
(``parallelner.text.detokenize.join_tokens``) beside sacremoses' Moses detokenizer, in one run.

The UNER files keep each sentence's original text in a ``# text`` line, so every sentence is a
test case: the share rebuilt exactly, and the share that differs only in spaces.
Run: .venv/bin/python benchmarks/detokenize.py   (sacremoses: pip install sacremoses)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from parallelner.text.detokenize import join_tokens

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
FILES = [
    ("en", SHARED / "uner-en-ewt" / "en_ewt-ud-dev.iob2"),
    ("en", SHARED / "uner-en-ewt" / "en_ewt-ud-test.iob2"),
    ("en", SHARED / "uner-pud-multi" / "en_pud.iob2"),
    ("de", SHARED / "uner-pud-multi" / "de_pud.iob2"),
    ("pt", SHARED / "uner-pud-multi" / "pt_pud.iob2"),
    ("ru", SHARED / "uner-pud-multi" / "ru_pud.iob2"),
    ("sv", SHARED / "uner-pud-multi" / "sv_pud.iob2"),
    ("zh", SHARED / "uner-zh-gsdsimp" / "zh_gsdsimp-ud-dev.iob2"),
]


def sentences(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(``# text``, tokens) of each sentence, parsed here on its own (not by the reader)."""
    text, tokens = None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# text = "):
            text = line[len("# text = ") :]
        elif line.strip() and not line.startswith("#"):
            tokens.append(line.split("\t")[1])
        elif not line.strip() and tokens:
            if text is not None:
                yield text, tokens
            text, tokens = None, []
    if tokens and text is not None:
        yield text, tokens


def contenders(lang: str) -> dict[str, Callable[[list[str]], str]]:
    out: dict[str, Callable[[list[str]], str]] = {"parallelner": lambda t: join_tokens(t)[0]}
    try:
        from sacremoses import MosesDetokenizer
    except ImportError:
        return out
    moses = MosesDetokenizer(lang=lang)
    out["sacremoses"] = lambda t: moses.detokenize(t)
    return out


def main() -> None:
    print(f"{'file':<28} {'sentences':>9}  {'contender':<12} {'exact':>7} {'spaces':>7} {'s':>6}")
    totals: dict[str, list[int]] = {}
    for lang, path in FILES:
        cases = list(sentences(path))
        for name, rebuild in contenders(lang).items():
            started = time.perf_counter()
            exact = near = 0
            for text, tokens in cases:
                got = rebuild(tokens)
                exact += got == text
                near += got.replace(" ", "") == text.replace(" ", "")
            seconds = time.perf_counter() - started
            t = totals.setdefault(name, [0, 0])
            t[0], t[1] = t[0] + exact, t[1] + len(cases)
            print(
                f"{path.name:<28} {len(cases):>9}  {name:<12} {exact / len(cases):>7.1%} "
                f"{near / len(cases):>7.1%} {seconds:>6.2f}"
            )
    for name, (exact, n) in totals.items():
        print(f"all: {name} {exact}/{n} exact ({exact / n:.1%})")


if __name__ == "__main__":
    main()
