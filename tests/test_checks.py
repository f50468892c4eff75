"""The check interface: every check one object with a name, its reason codes and a Verdict;
the judge runs the registered list and counts by check and reason."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from parallelner.config import FilterSettings
from parallelner.filters.base import Check, Verdict
from parallelner.filters.checks import CHECKS
from parallelner.filters.judge import Judge
from parallelner.filters.markup import MarkupCheck
from parallelner.reasons import LEAKED_MARKUP, LLM_ERROR, REASONS, ROUND_TRIP
from parallelner.records import Candidate

DOCS = Path(__file__).resolve().parent.parent / "docs" / "filters.md"


def _pud_candidates(shared_data: Path, lang: str) -> list[Candidate]:
    """Every human PUD pair EN -> ``lang`` as a candidate (no entities: the text is what
    these checks read)."""
    name = "uner-pud-en-zh/pairs.jsonl" if lang == "zh" else f"uner-pud-multi/pairs-en-{lang}.jsonl"
    path = shared_data / name
    if not path.exists():
        pytest.skip(f"{path} missing")
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            p = json.loads(line)
            out.append(
                Candidate(
                    f"{p['id']}:en-{lang}",
                    p["id"],
                    "en",
                    lang,
                    p["en"]["text"],
                    p[lang]["text"],
                    (),
                    (),
                    "passed",
                    confidence=1.0,
                )  # fmt: skip
            )
    return out


def test_every_registered_check_names_reasons_of_the_one_list():
    names = [c.name for c in CHECKS]
    assert len(names) == len(set(names))
    for check in CHECKS:
        assert issubclass(check, Check) and check.reasons
        assert set(check.reasons) <= set(REASONS), check
    given = {r for c in CHECKS for r in c.reasons}
    # what no registered check gives comes from the LLM checks or the translate stage
    assert set(REASONS) - given == {ROUND_TRIP, LLM_ERROR}


def test_docs_list_every_reason_code_in_the_order_of_the_one_list():
    documented = re.findall(r"^\| `([a-z_]+)` \|", DOCS.read_text(encoding="utf-8"), re.M)
    assert list(dict.fromkeys(r for r in documented if r in REASONS)) == list(REASONS)


def test_the_judge_counts_by_check_and_reason(sample_dir):
    c = Candidate("x:en-zh", "x", "en", "zh", "It was raining in Berlin all day long today.",
                  "```\n今天柏林下了一整天雨。", (), (), "passed")  # fmt: skip
    judge = Judge(FilterSettings())
    judged = judge.judge(c)
    assert judged.status == "rejected" and judged.reasons == (LEAKED_MARKUP,)
    checks = judge.figures()["checks"]
    assert checks == {"judged": 1, f"markup:{LEAKED_MARKUP}": 1}


def test_a_gate_stops_the_later_checks():
    looked: list[str] = []

    class Spy(Check):
        name = "spy"
        reasons = (LEAKED_MARKUP,)

        def check(self, c: Candidate, thresholds: FilterSettings) -> Verdict:
            looked.append(c.id)
            return Verdict()

    blank = Candidate("x:en-zh", "x", "en", "zh", "Some sentence.", "  ", (), (), "passed")
    judge = Judge(FilterSettings(), checks=(*CHECKS, Spy))
    assert judge.judge(blank).reasons == ("empty",) and looked == []
    assert judge.figures()["checks"] == {"judged": 1, "empty:empty": 1}


def test_a_check_given_to_the_judge_runs_with_the_others():
    class Shouting(Check):
        name = "shouting"
        reasons = (LEAKED_MARKUP,)

        def check(self, c: Candidate, thresholds: FilterSettings) -> Verdict:
            return Verdict((LEAKED_MARKUP,)) if c.tgt_text.isupper() else Verdict()

    c = Candidate("x:en-de", "x", "en", "de", "It rains over the hills of Bavaria today.",
                  "ES REGNET HEUTE ÜBER DEN HÜGELN BAYERNS.", (), (), "passed")  # fmt: skip
    assert Judge(FilterSettings(), checks=(*CHECKS, Shouting)).judge(c).status == "rejected"


@pytest.mark.parametrize("lang", ["zh", "de", "ru"])
def test_human_translations_leak_no_markup(shared_data, lang):
    check = MarkupCheck()
    flagged = [
        c.id for c in _pud_candidates(shared_data, lang) if check.check(c, FilterSettings()).reasons
    ]
    assert flagged == []


@pytest.mark.parametrize(
    "leak",
    [
        "```json\n{}",
        '", "entities": []}',
        "<|im_end|>",
        "<think>The user wants Chinese.</think>",
    ],
)
def test_what_a_model_leaks_is_rejected_where_the_source_has_none(shared_data, leak):
    c = _pud_candidates(shared_data, "zh")[0]
    check = MarkupCheck()
    assert check.check(c, FilterSettings()).passed
    leaked = Candidate(c.id, c.source_id, "en", "zh", c.src_text, c.tgt_text + leak, (), (),
                       "passed")  # fmt: skip
    assert check.check(leaked, FilterSettings()).reasons == (LEAKED_MARKUP,)


def test_a_label_in_front_is_a_leak_but_markup_the_source_holds_is_not():
    check = MarkupCheck()
    label = Candidate("x:en-zh", "x", "en", "zh", "It rains.", "译文：下雨了。", (), (), "passed")
    assert check.check(label, FilterSettings()).reasons == (LEAKED_MARKUP,)
    kept = Candidate("x:en-de", "x", "en", "de", "Type ```make``` to build it.",
                     "Tippe ```make```, um es zu bauen.", (), (), "passed")  # fmt: skip
    assert check.check(kept, FilterSettings()).passed
