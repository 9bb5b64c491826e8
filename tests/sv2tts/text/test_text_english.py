"""English normalisation rules (english_cleaners on English text)."""

from __future__ import annotations

import pytest

from sv2tts.text import default_text_frontend
from sv2tts.text.english import cardinal_words, ordinal_words, year_words


def clean(text: str) -> str:
    return default_text_frontend().clean(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café naïve Straße Ærø", "cafe naive strasse aero"),
        ("“Hi” — ‘you’…", "\"hi\" -- 'you'..."),
        ("  A\tb\n\nc  ", "a b c"),
        ("foo/bar a_b", "foo bar a b"),
        ("Tom & Jerry", "tom and jerry"),
        ("C++ is fun.", "c plus plus is fun."),
    ],
)
def test_ascii_lower_case_and_whitespace(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0 7 13 101 999", "zero seven thirteen one hundred one nine hundred ninety-nine"),
        ("123456", "one hundred twenty-three thousand four hundred fifty-six"),
        ("1,500 people", "one thousand five hundred people"),  # grouped: an amount, no year
        ("007", "zero zero seven"),
        ("-5 degrees", "minus five degrees"),
        ("3.14", "three point one four"),
        ("0.5", "zero point five"),
        ("1/2 and 3/4", "one half and three quarters"),
    ],
)
def test_numbers(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1999", "nineteen ninety-nine"),
        ("1905", "nineteen oh five"),
        ("2000", "two thousand"),
        ("2005", "two thousand five"),
        ("2024", "twenty twenty-four"),
        ("1100", "eleven hundred"),
        ("1000", "one thousand"),
        ("3000", "three thousand"),
    ],
)
def test_years_read_in_pairs_between_1001_and_2999(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1st", "first"),
        ("2nd", "second"),
        ("3rd", "third"),
        ("21st", "twenty-first"),
        ("22nd", "twenty-second"),
        ("103rd", "one hundred and third"),
        ("111th", "one hundred and eleventh"),
    ],
)
def test_ordinals(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$12.50", "twelve dollars, fifty cents"),
        ("$1", "one dollar"),
        ("$0.01", "one cent"),
        ("$0.00", "zero dollars"),
        ("$1.5", "one dollar, fifty cents"),  # one decimal digit is tenths
        ("$1,000,000", "one million dollars"),
        ("$2.5 million", "two point five million dollars"),
        ("£3", "three pounds"),
        ("£1.01", "one pound, one penny"),
        ("£0.20", "twenty pence"),
        ("€5", "five euros"),
        ("100 €", "one hundred euros"),
        ("€1", "one euro"),
        ("¥300", "three hundred yen"),
        ("₽50", "fifty rubles"),
        ("it costs £100, ok", "it costs one hundred pounds, ok"),
    ],
)
def test_currency(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50%", "fifty percent"),
        ("2.5 %", "two point five percent"),
        ("1,000%", "one thousand percent"),
    ],
)
def test_percent(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("at 10:30", "at ten thirty"),
        ("at 7:05", "at seven oh five"),
        ("at 10:00 sharp", "at ten o'clock sharp"),
        ("at 7 pm today", "at seven pee em today"),
        ("at 7pm", "at seven pee em"),
        ("at 9:15 a.m. we left", "at nine fifteen ay em we left"),
        ("Come at 7 p.m.", "come at seven pee em."),
        ("it is 25°C", "it is twenty-five degrees celsius"),
    ],
)
def test_times_and_degrees(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Smith is here.", "doctor smith is here."),
        ("Dr Smith and Mr Jones", "doctor smith and mister jones"),
        ("He lives on Mulholland Dr. now.", "he lives on mulholland drive now."),
        ("We saw St. Louis and St. Petersburg.", "we saw saint louis and saint petersburg."),
        ("I live on Main St.", "i live on main street."),
        ("at 5th St. today", "at fifth street today"),
        (
            "Mr. and Mrs. Jones, Ms. Lee, Prof. Xu",
            "mister and misess jones, miss lee, professor xu",
        ),
        ("on Jan. 5", "on january five"),
        ("2 Sept. 1939", "two september nineteen thirty-nine"),
        ("I met Jan. We talked.", "i met jan. we talked."),
        ("No. 5 and #1", "number five and number one"),
        ("e.g. this, i.e. that", "for example this, that is that"),
        ("apples, pears, etc.", "apples, pears, et cetera."),
        (
            "Acme Co. and Foo Ltd. vs. Bar Inc.",
            "acme company and foo limited versus bar incorporated.",
        ),
        ("5 km and 1 kg", "five kilometers and one kilogram"),
    ],
)
def test_abbreviations_by_context(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wow 😀 great 👍🏽!", "wow great!"),
        ("😀 hi", "hi"),
        ("👨‍👩‍👧 family", "family"),
        ("😀😀😀", ""),
    ],
)
def test_emoji_are_dropped_not_spelled(text: str, expected: str) -> None:
    assert clean(text) == expected


def test_english_output_uses_only_default_symbols() -> None:
    frontend = default_text_frontend()
    text = "Ünïcödé ¿qué? 你好 — ½ ™ © № [x] {y} <z> ~tilde~ `tick` |pipe| \\ ^ * _ 50% $5 #1"
    cleaned = frontend.clean(text)
    assert cleaned
    assert all(char in frontend.symbols for char in cleaned), cleaned


def test_number_word_helpers_follow_the_reference_conventions() -> None:
    assert cardinal_words(101) == "one hundred one"  # no "and" in cardinals
    assert ordinal_words(103) == "one hundred and third"  # "and" in ordinals
    assert year_words(1999) == "nineteen ninety-nine"
