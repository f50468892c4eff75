from __future__ import annotations

from parallelner.text.projection import find_occurrences, locate_entities


def test_projection_picks_second_occurrence_when_first_is_taken():
    # Two source mentions of the same person: they take the two occurrences in source order.
    text = "王先生对王先生的儿子说，北京很大。"
    assert locate_entities(text, ["王先生", "王先生", "北京"]) == [(0, 3), (4, 7), (12, 14)]


def test_projection_on_latin_text_with_repeated_names():
    text = "Paris Hilton flew from Paris to Paris, Texas."
    got = locate_entities(text, ["Paris Hilton", "Paris", "Paris, Texas"])
    assert got == [(0, 12), (23, 28), (32, 44)]


def test_longer_form_is_placed_before_a_shorter_one_inside_it():
    text = "New York is not York."
    assert locate_entities(text, ["York", "New York"]) == [(16, 20), (0, 8)]


def test_a_form_occurring_once_for_two_entities_is_an_overlap():
    assert locate_entities("他去了美國。", ["美國", "美國", "中國"]) == [
        (3, 5),
        "entity_overlap",
        "entity_not_found",
    ]


def test_fullwidth_and_spacing_differences_are_normalised_to_original_offsets():
    text = "ＩＢＭ公司在北京大学设立了实验室"
    assert find_occurrences(text, "IBM") == [(0, 3)]
    assert find_occurrences(text, "北京 大学") == [(6, 10)]
    assert find_occurrences("the  United\tStates", "United States") == [(5, 18)]


def test_missing_and_blank_forms_are_entity_missing():
    assert locate_entities("John met Mary.", [None, "  ", "Mary"]) == [
        "entity_missing",
        "entity_missing",
        (9, 13),
    ]
