"""The text front end against the reference's symbol table and sequences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sv2tts.text import DEFAULT_SYMBOLS, EOS_INDEX, default_text_frontend

# Cases where the reference is plainly wrong and we read better: text -> what we say.
IMPROVED = {
    # "Jan." next to a day number is January; the reference leaves "jan." for the model to spell.
    "Dr. Smith paid $12.50 for 3 books on Jan. 2nd, 1999!": (
        "doctor smith paid twelve dollars, fifty cents for three books on january second, "
        "nineteen ninety-nine!"
    ),
    # The reference transliterates "£" to "PS" before reading the amount ("psone hundred")
    # and drops the percent sign ("fifty more").
    "It costs £100, or 1,000,000 dollars; isn't that 50% more?": (
        "it costs one hundred pounds, or one million dollars; isn't that fifty percent more?"
    ),
    # "St." after a street name is "street"; the reference always says "saint".
    "Mr. and Mrs. Jones met at 10 Downing St. (London) -- the 21st time.": (
        "mister and misess jones met at ten downing street (london) -- the twenty-first time."
    ),
    # "£3" is three pounds, not "psthree".
    "Numbers: 0 1 2 13 101 2024 1st 22nd 103rd $0.01 $1 £3.": (
        "numbers: zero one two thirteen one hundred one twenty twenty-four first "
        "twenty-second one hundred and third one cent one dollar three pounds."
    ),
}


@pytest.fixture(scope="module")
def reference(reference_dir: Path) -> dict[str, Any]:
    return json.loads((reference_dir / "text_reference.json").read_text(encoding="utf-8"))


def test_default_symbols_are_the_checkpoints_table(reference: dict[str, Any]) -> None:
    assert list(DEFAULT_SYMBOLS.symbols) == reference["symbols"]
    assert len(DEFAULT_SYMBOLS) == 66
    assert reference["cleaners"] == list(default_text_frontend().cleaners)


def test_every_reference_case_matches_or_is_a_listed_improvement(
    reference: dict[str, Any],
) -> None:
    frontend = default_text_frontend()
    texts = [case["text"] for case in reference["cases"]]
    assert set(IMPROVED) <= set(texts), "an improvement names a case the reference lacks"
    for case in reference["cases"]:
        got = frontend.encode(case["text"])
        if case["text"] in IMPROVED:
            assert got == DEFAULT_SYMBOLS.encode(IMPROVED[case["text"]]), case["text"]
            assert got != case["sequence"], f"no longer an improvement: {case['text']!r}"
        else:
            assert got == case["sequence"], (case["text"], DEFAULT_SYMBOLS.decode(got))


def test_reference_sequences_end_with_one_eos(reference: dict[str, Any]) -> None:
    frontend = default_text_frontend()
    for case in reference["cases"]:
        sequence = frontend.encode(case["text"])
        assert sequence[-1] == EOS_INDEX
        assert EOS_INDEX not in sequence[:-1]
