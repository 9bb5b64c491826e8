"""Every hostile text gets its defined answer from the engine's text front end.

An item is refused (`text_problem`: empty, too long, nothing to say) or spoken; what is spoken
reaches the model as sentences of at most 150 characters that the symbol set spells in full,
with no character nobody could see. The bot asks the same `text_problem` (bot/services/speech.py),
so these answers are the bot's too (tests/bot/abuse/test_hostile_text.py).
"""

from __future__ import annotations

import unicodedata

import pytest

from sv2tts.text import (
    DEFAULT_MAX_SENTENCE_CHARS,
    TextFrontend,
    default_text_frontend,
    strip_invisible,
    text_problem,
    visible_text,
)
from sv2tts.text.english import _DIGIT_NAMES
from tests.fakes.hostile_text import (
    BY_NAME,
    DEFAULT_MAX_TEXT_CHARS,
    DIGITS_200,
    HOSTILE_TEXTS,
    HostileText,
)

FRONTEND = default_text_frontend()
SPOKEN = [item for item in HOSTILE_TEXTS if item.problem is None]


def ids(items: list[HostileText]) -> list[str]:
    return [item.name for item in items]


def spoken(text: str) -> list[str]:
    """What the model reads of `text` sent through the bot: the bot queues its visible text
    (bot/text_check.py), the worker's front end makes it sentences."""
    return FRONTEND.sentences(visible_text(text))


@pytest.mark.parametrize("item", HOSTILE_TEXTS, ids=ids(HOSTILE_TEXTS))
def test_each_hostile_text_gets_its_defined_answer(item: HostileText) -> None:
    # The bot checks the visible text (bot/text_check.py); the raw text must answer the same.
    assert text_problem(visible_text(item.text), DEFAULT_MAX_TEXT_CHARS) == item.problem
    assert text_problem(item.text, DEFAULT_MAX_TEXT_CHARS) == item.problem


@pytest.mark.parametrize("item", SPOKEN, ids=ids(SPOKEN))
def test_what_is_spoken_is_short_sentences_the_model_can_spell(item: HostileText) -> None:
    assert visible_text(item.text) == item.visible
    sentences = spoken(item.text)
    assert sentences, "a spoken item must leave something to say"
    for sentence in sentences:
        assert len(sentence) <= DEFAULT_MAX_SENTENCE_CHARS
        assert all(char in FRONTEND.symbols for char in sentence), sentence
        assert any(char.isalpha() for char in sentence)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # A zero-width joiner inside a word used to split it ("wo rld").
        ("zero_width", ["hello world, softly."]),
        # A right-to-left mark after the full stop used to hide the sentence boundary.
        ("bidi_controls", ["hello world.", "fine."]),
        ("control_chars", ["hello world again."]),
        ("line_separators", ["one two three four five six"]),
        ("lone_surrogate", ["hello world"]),
        # The over-long "word" is dropped; the words around it are said.
        ("word_of_600_chars_in_a_sentence", ["say please."]),
    ],
)
def test_invisible_characters_and_unsayable_words_never_reach_the_model(
    name: str, expected: list[str]
) -> None:
    assert spoken(BY_NAME[name].text) == expected
    # The engine alone (its CLI, a bank preview) strips them too, keeping the line breaks.
    assert " ".join(FRONTEND.sentences(BY_NAME[name].text)) == " ".join(expected)


def test_markup_lookalikes_are_read_as_words_not_markup() -> None:
    said = " ".join(
        spoken(BY_NAME["html_lookalike"].text) + spoken(BY_NAME["markdown_lookalike"].text)
    )
    assert "bold" in said and "alert" in said and "italic" in said
    assert not set("<>&*`_~") & set(said)


@pytest.mark.parametrize(
    ("name", "other_words"),
    [("number_of_200_digits", []), ("number_of_200_digits_in_a_sentence", ["the", "code", "is"])],
)
def test_a_200_digit_number_is_read_digit_by_digit_once(name: str, other_words: list[str]) -> None:
    """Not a number name (none exists past decillions) and never more than one word a digit:
    the spoken length grows with the text, which the text limit caps."""
    words = " ".join(spoken(BY_NAME[name].text)).replace(",", "").split()
    assert words[: len(other_words)] == other_words
    digits = [w for w in words[len(other_words) :] if w.rstrip(".") in _DIGIT_NAMES]
    assert digits == [_DIGIT_NAMES[int(d)] for d in DIGITS_200]
    assert len(words) <= len(other_words) + len(DIGITS_200) + 1


def test_a_word_longer_than_a_sentence_has_nothing_to_say_whatever_the_limit() -> None:
    assert text_problem("a" * 5000, max_chars=10_000) == "nothing_to_say"
    assert text_problem("x" * DEFAULT_MAX_SENTENCE_CHARS, max_chars=10_000) is None
    assert text_problem("x" * (DEFAULT_MAX_SENTENCE_CHARS + 1), max_chars=10_000) == (
        "nothing_to_say"
    )


def test_ten_thousand_characters_past_a_raised_limit_come_in_capped_sentences() -> None:
    text = BY_NAME["ten_thousand_chars"].text
    assert text_problem(text, max_chars=20_000) is None
    sentences = spoken(text)
    assert len(sentences) >= 700
    assert max(len(s) for s in sentences) <= DEFAULT_MAX_SENTENCE_CHARS


def test_strip_invisible_keeps_line_breaks_for_the_sentence_splitter() -> None:
    assert strip_invisible("a\u2028b\u2029c\x85d") == "a\nb\nc\nd"
    assert FRONTEND.sentences("first line\nsecond line") == ["first line", "second line"]
    assert visible_text("first line\nsecond line") == "first line second line"


def test_no_format_or_control_character_survives_any_cleaner() -> None:
    # Every category the rule drops, each code point of it in the Basic Multilingual Plane.
    dropped = [
        chr(cp)
        for cp in range(0x10000)
        if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Cs") and not chr(cp).isspace()
    ]
    text = "Hello " + "".join(dropped) + " world"
    assert visible_text(text) == "Hello world"
    for cleaners in (("english_cleaners",), ("russian_cleaners",), ("basic_cleaners",)):
        cleaned = TextFrontend(cleaners=cleaners).clean(text)
        assert cleaned == "hello world", cleaners
