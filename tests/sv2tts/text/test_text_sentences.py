"""Sentence splitting, length caps and the "nothing to say" check."""

from __future__ import annotations

import pytest

from sv2tts.text import default_text_frontend, has_speakable_text, split_sentences, text_problem
from sv2tts.text.sentences import split_long


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("Wait... What? Really…  Yes.", ["Wait...", "What?", "Really…", "Yes."]),
        ('He said "Go." Then left.', ['He said "Go."', "Then left."]),
        ("Line one\nLine two\n\n\nLine three", ["Line one", "Line two", "Line three"]),
        ("Pi is 3.14 today. Ok.", ["Pi is 3.14 today.", "Ok."]),
        ("Привет! Как дела? Всё хорошо.", ["Привет!", "Как дела?", "Всё хорошо."]),
    ],
)
def test_splits_at_sentence_punctuation(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Dr. Smith met Mr. Jones in St. Louis on Jan. 5 at No. 10.",
        "J. K. Rowling wrote it, e.g. this one.",
        "Я живу в г. Москва на ул. Ленина, т.е. в центре.",
        "Это сказал А. С. Пушкин, см. том 3.",
        "В 1812 г. Наполеон вошёл в Москву.",  # a name after the year's "г." goes on
        "It was fine... and then it rained.",
    ],
)
def test_does_not_split_after_abbreviations_initials_or_before_lower_case(text: str) -> None:
    assert split_sentences(text) == [text]


def test_abbreviation_that_can_end_a_sentence_splits_before_a_capital() -> None:
    text = "Яблоки, груши и т.д. Потом ушли. В 2024 г. Было тепло."
    assert split_sentences(text) == [
        "Яблоки, груши и т.д.",
        "Потом ушли.",
        "В 2024 г.",
        "Было тепло.",
    ]


def test_never_returns_empty_or_punctuation_only_pieces() -> None:
    assert split_sentences("") == []
    assert split_sentences("   \n\n  ") == []
    assert split_sentences("... !!! ??? — 😀") == []
    assert split_sentences("Hi. ... Bye.") == ["Hi.", "Bye."]


def test_long_sentence_is_cut_at_commas_then_spaces_within_the_cap() -> None:
    text = (
        "This sentence goes on, and on, and on for quite a while; it has clauses, many "
        "clauses, and then some more words without any punctuation at all until the end."
    )
    pieces = split_sentences(text, max_chars=40)
    assert all(0 < len(piece) <= 40 for piece in pieces), pieces
    assert " ".join(pieces) == text  # nothing lost, only cut at spaces
    assert pieces[0].endswith((",", ";"))  # the first cut is at punctuation


def test_word_longer_than_the_cap_is_cut_hard() -> None:
    pieces = split_long("a" * 25, max_chars=10)
    assert pieces == ["a" * 10, "a" * 10, "a" * 5]


def test_cleaned_sentences_respect_the_cap_after_numbers_grow() -> None:
    frontend = default_text_frontend()
    pieces = frontend.sentences("Numbers 1234567 8901234 5678901 now.", max_chars=40)
    assert len(pieces) > 1
    assert all(0 < len(piece) <= 40 for piece in pieces), pieces


def test_to_sequences_gives_one_eos_terminated_sequence_per_sentence() -> None:
    frontend = default_text_frontend()
    sequences = frontend.to_sequences("Hello world. Привет, мир! 😀")
    assert [frontend.symbols.decode(s) for s in sequences] == ["hello world.", "privet, mir!"]
    assert all(s[-1] == 1 and 1 not in s[:-1] for s in sequences)


@pytest.mark.parametrize(
    ("text", "speakable"),
    [
        ("😀😀👍🏽", False),
        ("...!?", False),
        ("", False),
        ("  \n ", False),
        ("hi", True),
        ("42", True),
        ("Привет", True),
        ("你好", True),  # romanised, so the English model says something
        ("😀 ok", True),
    ],
)
def test_has_speakable_text(text: str, speakable: bool) -> None:
    assert has_speakable_text(text) is speakable


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 101, "too_long"),
        ("😀😀", "nothing_to_say"),
        ("Hello!", None),
        ("x" * 100, None),
    ],
)
def test_text_problem(text: str, problem: str | None) -> None:
    assert text_problem(text, max_chars=100) == problem
