"""The free adequacy checks (``--adequacy checks``, the default): numbers that do not come back
with their value and source words left untranslated send a pair to review; on human
translations they stay quiet. Pinned on a real model's translations (read by a person) and on
the shared UNER PUD human translations."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from parallelner.config import FilterSettings
from parallelner.filters.adequacy import UNKNOWN, check_adequacy, factor, free_checks
from parallelner.filters.judge import Judge
from parallelner.filters.numbers import numbers_lost
from parallelner.filters.words_left import words_left

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from adequacy_checks import labels, model_candidates, pud_candidates  # noqa: E402


def test_a_real_model_slips_go_to_review_its_good_pairs_do_not():
    known = labels()
    found = {c.id: free_checks(c) for c in model_candidates() if c.id in known}
    bad = [i for i, good in known.items() if not good]
    good = [i for i, ok in known.items() if ok]
    assert len(found) == 32
    caught = [i for i in bad if found[i].found]
    assert len(caught) == 10, caught  # of 16: words left in English, numbers changed
    assert [i for i in good if found[i].found] == []
    assert found["n01002058:en-zh"].found == ("words_left: unbelievable",)
    assert found["n01024010:en-zh"].found == ("numbers: 66",)  # just over 66% -> 约6.6%


@pytest.mark.parametrize("other", ["zh", "de", "pt", "ru", "sv"])
def test_human_translations_are_rarely_flagged(shared_data, other):
    for src, tgt in (("en", other), (other, "en")):
        cands = pud_candidates(other, src, tgt)
        flagged = [c.id for c in cands if free_checks(c).found]
        assert len(cands) == 691
        assert len(flagged) <= 6, (src, tgt, flagged)  # measured 0 to 5 (most are real slips)


def test_a_human_slip_is_caught(shared_data):
    """The human Chinese of UNER PUD n01005023 says 103.7亿 (10.37 billion) for $103.7 million."""
    (c,) = [c for c in pud_candidates("zh", "en", "zh") if c.source_id == "pud-n01005023"]
    assert free_checks(c).found == ("numbers: $103.7 million",)


@pytest.mark.parametrize(
    ("source", "translation", "src", "tgt", "lost"),
    [
        ("$103.7 million", "1.037亿美元", "en", "zh", ()),
        ("$103.7 million", "103.7亿元", "en", "zh", ("$103.7 million",)),
        ("the attacks of 21 October", "2010年10月发生的袭击", "en", "zh", ("21",)),
        ("the attacks of 21 October", "10月21日的攻擊", "en", "zh", ()),
        ("10月21日的攻擊", "the attack on October 21", "zh", "en", ()),
        ("從4至6月", "from April to June", "zh", "en", ()),
        ("至2210億美元", "to $221bn", "zh", "en", ()),
        ("共享$150萬", "sharing $1.5 million", "zh", "en", ()),
        ("约16萬8千人", "about 168,000 people", "zh", "en", ()),
        ("2900千瓦的電力", "2,900 kilowatts", "zh", "en", ()),
        ("more than 6,000 people", "mehr als 6.000 Menschen", "en", "de", ()),
        ("1,4 Milliarden Dollar", "$1.4 billion", "de", "en", ()),
        ("in grade 4", "四年级", "en", "zh", ()),
        ("the 2 month breeding period", "der zweimonatigen Brutzeit", "en", "de", ()),
        ("the 3rd century", "século III", "en", "pt", ()),  # ordinals are not required
        ("since the 1960s", "desde a década de 60", "en", "pt", ()),
        ("100% Cospedal", "точно Коспедаль", "en", "ru", ("100",)),
    ],
)
def test_numbers_are_read_the_way_each_language_writes_them(source, translation, src, tgt, lost):
    assert numbers_lost(source, translation, src, tgt) == lost


def test_a_check_that_cannot_tell_says_so(pairs):
    assert numbers_lost("It cost $5", "Es kostete 5 $", "en", "xx") is None
    de = [c for c in pud_candidates("de", "en", "de")][:3]
    assert all(words_left(c) is None for c in de)
    assert all(free_checks(c).not_applicable == ("words_left",) for c in de)


def test_the_filter_stage_applies_them_by_default_at_no_cost():
    (c,) = [c for c in model_candidates() if c.id == "n01003010:en-zh"]  # 技术 lobbyists会面
    assert FilterSettings().adequacy == "checks" and not FilterSettings().calls_llm
    context = Judge(FilterSettings())
    judged = context.judge(c)
    assert judged.status == "passed" and judged.confidence is not None and judged.confidence < 0.9
    figures = context.figures()["adequacy"]
    assert figures["low"] == 1 and figures["found"] == {"numbers": 0, "words_left": 1}
    assert figures["tokens_per_pair"] == 0
    off = Judge(FilterSettings(adequacy="off")).judge(c)
    assert off.confidence is not None and off.confidence > judged.confidence


def test_round_trip_cannot_tell_for_a_chinese_source_and_pays_nothing():
    """chrF of a back-translation into Chinese sorts nothing (see round_trip_applies): the
    pair is unknown, goes to review, and no call is sent (no backend is given here)."""
    c = next(c for c in model_candidates() if c.src_lang == "zh" and not free_checks(c).found)
    a = asyncio.run(check_adequacy(c, "round_trip", None))
    assert a.score is None and "round_trip" in a.not_applicable and a.prompt_tokens == 0
    assert a.is_unknown("round_trip") and factor(a, "round_trip") == UNKNOWN < 0.9  # review
