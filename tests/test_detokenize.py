"""Text rebuilt from tokens reads as its authors wrote it (benchmarks/detokenize.py measures
the rules on every UNER sentence; these pin the cases the issue named)."""

from __future__ import annotations

import pytest

from parallelner.text.detokenize import join_tokens


@pytest.mark.parametrize(
    ("tokens", "text"),
    [
        # MasakhaNER splits numbers at their separators
        (["dem", "pay", "2", ",", "000", "naira"], "dem pay 2,000 naira"),
        (["e", "rise", "3", ".", "5", "percent"], "e rise 3.5 percent"),
        # WNUT splits clitics around the apostrophe
        (["we", "should", "'", "ve", "gone"], "we should've gone"),
        (["Apple", "'s", "shares"], "Apple's shares"),
        # UNER PUD sentences, their `# text` line the truth
        (
            ["$", "5,000", "per", "person", ",", "the", "maximum", "allowed", "."],
            "$5,000 per person, the maximum allowed.",
        ),
        (
            [
                '"',
                "I",
                "'m",
                "going",
                "to",
                "jail",
                "either",
                "way",
                ",",
                "hope",
                "it",
                "was",
                "worth",
                "it",
                ".",
                '"',
            ],
            '"I\'m going to jail either way, hope it was worth it."',
        ),  # fmt: skip
        (
            [
                "As",
                "one",
                "of",
                "Negan",
                "'s",
                "(",
                "Jeffrey",
                "Dean",
                "Morgan",
                ")",
                "top",
                "guys",
                ",",
                "he",
                "'s",
                "afforded",
                "certain",
                "freedoms",
                ".",
            ],
            "As one of Negan's (Jeffrey Dean Morgan) top guys, he's afforded certain freedoms.",
        ),  # fmt: skip
        (
            [
                "Ms",
                "Pugh",
                "wurde",
                "in",
                "dem",
                "Papworth",
                "-",
                "und",
                "in",
                "dem",
                "Addenbrooke's",
                "-",
                "Krankenhaus",
                "in",
                "Cambridgeshire",
                "behandelt",
                ".",
            ],
            "Ms Pugh wurde in dem Papworth- und in dem Addenbrooke's-Krankenhaus in "
            "Cambridgeshire behandelt.",
        ),  # fmt: skip
    ],
)
def test_tokens_join_as_written(tokens, text):
    joined, offsets = join_tokens(tokens)
    assert joined == text
    # every token stays findable where the join put it: spans project onto the text
    assert [joined[s:e] for s, e in offsets] == tokens
