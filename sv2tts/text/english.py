"""English text normalisation for the English-trained synthesizer ("english_cleaners").

It reproduces what the public checkpoint was trained on (ASCII, lower case, numbers and
abbreviations spelled out) and does better where the reference cleaners were plainly wrong:
pound, euro, yen and rouble amounts are read with their currency, a percent sign is read,
"St." and "Dr." are read by context (saint/street, doctor/drive), and month abbreviations
next to a number are expanded. Numbers otherwise read as the reference reads them (so that the
model hears what it learnt): cardinals without "and", 1001-2999 as years, ordinals with "and".
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

import inflect
from anyascii import anyascii

from sv2tts.text.russian import CYRILLIC_WORD_RE, transliterate_russian

log = logging.getLogger(__name__)

# Unicode punctuation whose ASCII form the model knows; chosen to read as the reference's
# transliteration did (an em dash is "--", a pause the model learnt from book text).
_PUNCTUATION = str.maketrans(
    {
        "\u2014": " -- ",  # em dash
        "\u2015": " -- ",
        "\u2013": "-",  # en dash
        "\u2012": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u2212": "-",  # minus sign
        "\u2026": "...",
        "\u00ab": '"',
        "\u00bb": '"',
        "\u201e": '"',
        "\u201c": '"',
        "\u201d": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u00a0": " ",  # no-break spaces: thousands separators and typography
        "\u202f": " ",
        "\u2009": " ",
        "\u200b": "",
        "[": "(",
        "]": ")",
        "{": "(",
        "}": ")",
    }
)

_WHITESPACE_RE = re.compile(r"\s+")
# Characters that are no symbol of the default set become word breaks, so that "and/or" does
# not glue into one word when the symbol table drops the slash.
NOT_DEFAULT_SYMBOL_RE = re.compile(r"[^a-z!'\"(),\-.:;? ]")


class Currency(NamedTuple):
    unit: str
    units: str
    subunit: str | None
    subunits: str | None


_CURRENCIES = {
    "$": Currency("dollar", "dollars", "cent", "cents"),
    "£": Currency("pound", "pounds", "penny", "pence"),
    "€": Currency("euro", "euros", "cent", "cents"),
    "¥": Currency("yen", "yen", None, None),
    "₽": Currency("ruble", "rubles", "kopeck", "kopecks"),
}
_AMOUNT = r"\d+(?:,\d{3})*(?:\.\d+)?"
_SCALE = r"(?:\s?(?P<scale>thousand|million|billion|trillion)\b)?"
_CURRENCY_BEFORE_RE = re.compile(rf"(?P<sym>[$£€¥₽])\s?(?P<amount>{_AMOUNT}){_SCALE}")
# "100 €" / "100₽": the symbol after the amount, as European and Russian writers put it.
_CURRENCY_AFTER_RE = re.compile(rf"(?<![\d.,])(?P<amount>{_AMOUNT}){_SCALE}\s?(?P<sym>[$£€¥₽])")

_DEGREES_RE = re.compile(r"\s?°\s?([CF])\b")
_DEGREE_NAMES = {"C": " degrees celsius", "F": " degrees fahrenheit"}

# Abbreviations that always read one way (matched case-insensitively, with their period).
_ABBREVIATIONS = {
    "mr": "mister",
    "mrs": "misess",  # the reference's spelling, which the model learnt to say as "missus"
    "ms": "miss",
    "prof": "professor",
    "rev": "reverend",
    "gen": "general",
    "col": "colonel",
    "lt": "lieutenant",
    "sgt": "sergeant",
    "capt": "captain",
    "maj": "major",
    "hon": "honorable",
    "jr": "junior",
    "sr": "senior",
    "esq": "esquire",
    "co": "company",
    "ltd": "limited",
    "inc": "incorporated",
    "corp": "corporation",
    "vs": "versus",
    "etc": "et cetera",
    "approx": "approximately",
    "dept": "department",
    "ave": "avenue",
    "blvd": "boulevard",
    "rd": "road",
    "mt": "mount",
}
# Months are expanded only next to a number ("Jan. 2nd", "2 Jan."): "Jan." alone is a name.
_MONTHS = {
    "jan": "january",
    "feb": "february",
    "mar": "march",
    "apr": "april",
    "jun": "june",
    "jul": "july",
    "aug": "august",
    "sep": "september",
    "sept": "september",
    "oct": "october",
    "nov": "november",
    "dec": "december",
}
# Read by context: before a name one way, after a street name or a number the other.
_BEFORE_NAME_OR_AFTER = {
    "st": ("saint", "street"),
    "dr": ("doctor", "drive"),
    "ft": ("fort", "feet"),
}
# Titles that British English writes without a period ("Mr Smith").
_TITLES_WITHOUT_PERIOD = {"Mr": "mister", "Mrs": "misess", "Ms": "miss", "Dr": "doctor"}
_TITLES_WITHOUT_PERIOD_RE = re.compile(r"\b(Mr|Mrs|Ms|Dr)(?=\s+[A-Z])")
_ABBREVIATION_RE = re.compile(r"\b(?P<word>[A-Za-z]{2,6})\.")
_LATIN_ABBREVIATIONS = (
    (re.compile(r"\be\.\s?g\.", re.IGNORECASE), "for example"),
    (re.compile(r"\bi\.\s?e\.", re.IGNORECASE), "that is"),
)
_NUMBER_SIGN_RE = re.compile(r"(?:\bno\.|#)\s?(?=\d)", re.IGNORECASE)

_TIME_RE = re.compile(
    r"\b(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)\b(?:\s?(?P<half>[ap])\.?\s?m\b\.?)?"
)
_HOUR_HALF_RE = re.compile(r"\b(?P<hour>1[0-2]|0?[1-9])\s?(?P<half>[ap])\.?\s?m\b\.?")
_GROUPED_NUMBER_RE = re.compile(r"\b\d{1,3}(?:,\d{3})+(?:\.\d+)?\b")
_PERCENT_RE = re.compile(r"(?P<number>\d+(?:,\d{3})*(?:\.\d+)?)\s?%")
_ORDINAL_RE = re.compile(r"\b(?P<number>\d+)(?P<suffix>st|nd|rd|th)\b")
_DECIMAL_RE = re.compile(r"\b(?P<whole>\d+)\.(?P<fraction>\d+)\b")
_FRACTION_RE = re.compile(r"(?<![\d/])(?P<num>[1-9])/(?P<den>[2-4])(?![\d/])")
_FRACTIONS = {
    ("1", "2"): "one half",
    ("1", "3"): "one third",
    ("2", "3"): "two thirds",
    ("1", "4"): "one quarter",
    ("3", "4"): "three quarters",
}
_UNIT_RE = re.compile(r"\b(?P<number>\d+(?:\.\d+)?)\s?(?P<unit>km|kg|cm|mm|mph|lbs?|kph)\b")
_UNITS = {
    "km": ("kilometer", "kilometers"),
    "kg": ("kilogram", "kilograms"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "mph": ("mile per hour", "miles per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
}
_NEGATIVE_RE = re.compile(r"(?<![\w-])-(?=\d)")
_INTEGER_RE = re.compile(r"\d+")
_SYMBOL_WORDS = (("&", " and "), ("@", " at "), ("+", " plus "), ("=", " equals "))


@lru_cache(maxsize=1)
def _inflect() -> inflect.engine:
    return inflect.engine()


# Longer numbers (card numbers, digit strings) are read digit by digit: nobody says them
# as quadrillions, and inflect stops at decillions.
MAX_NUMBER_DIGITS = 15
_DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def digits_words(number: int) -> str:
    return " ".join(_DIGIT_NAMES[int(d)] for d in str(number))


def cardinal_words(number: int) -> str:
    """A cardinal as the reference reads it: "one hundred one" (no "and")."""
    if len(str(number)) > MAX_NUMBER_DIGITS:
        return digits_words(number)
    # No commas inside a number ("one thousand five hundred"): a comma makes the model pause.
    return _inflect().number_to_words(number, andword="", comma="")


def ordinal_words(number: int) -> str:
    """An ordinal as the reference reads it: "one hundred and third" (with "and")."""
    if len(str(number)) > MAX_NUMBER_DIGITS:
        return digits_words(number)
    return _inflect().ordinal(_inflect().number_to_words(number, comma=""))


def year_words(number: int) -> str:
    """1001-2999 read in pairs as years are said ("nineteen ninety-nine", "nineteen oh five")."""
    if number % 1000 == 0 or 2000 < number < 2010:
        return cardinal_words(number)
    head, tail = divmod(number, 100)
    if tail == 0:
        return f"{cardinal_words(head)} hundred"
    tail_words = f"oh {cardinal_words(tail)}" if tail < 10 else cardinal_words(tail)
    return f"{cardinal_words(head)} {tail_words}"


def integer_words(digits: str) -> str:
    """A bare integer: digit by digit with a leading zero ("007"), as a year in 1001-2999."""
    if len(digits) > 1 and digits.startswith("0"):
        return " ".join(cardinal_words(int(d)) for d in digits)
    number = int(digits)
    if 1000 < number < 3000:
        return year_words(number)
    return cardinal_words(number)


def decimal_words(whole: str, fraction: str) -> str:
    """ "3.14" -> "three point one four": digits after the point are read one by one."""
    digits = " ".join(cardinal_words(int(d)) for d in fraction)
    return f"{cardinal_words(int(whole))} point {digits}"


def amount_words(amount: str) -> str:
    """A plain (not year-like) amount, "1,500" -> "one thousand five hundred", decimals too."""
    amount = amount.replace(",", "")
    whole, _, fraction = amount.partition(".")
    if fraction:
        return decimal_words(whole, fraction)
    return cardinal_words(int(whole))


def _plural(count_is_one: bool, one: str, many: str) -> str:
    return one if count_is_one else many


def money_words(amount: str, currency: Currency, scale: str | None) -> str:
    """ "12.50" dollars -> "twelve dollars, fifty cents"; "1.5" + million -> "one point five
    million dollars"; a one-digit fraction is tenths ("$1.5" is one dollar fifty)."""
    plain = amount.replace(",", "")
    if scale:
        return f"{amount_words(plain)} {scale} {currency.units}"
    whole_text, _, fraction = plain.partition(".")
    whole = int(whole_text)
    if len(fraction) > 2 or (fraction and currency.subunit is None):
        is_one = Decimal(plain) == 1
        return f"{amount_words(plain)} {_plural(is_one, currency.unit, currency.units)}"
    cents = int(fraction.ljust(2, "0")) if fraction else 0
    parts = []
    if whole or not cents:
        parts.append(
            f"{cardinal_words(whole)} {_plural(whole == 1, currency.unit, currency.units)}"
        )
    if cents and currency.subunit and currency.subunits:
        parts.append(
            f"{cardinal_words(cents)} {_plural(cents == 1, currency.subunit, currency.subunits)}"
        )
    return ", ".join(parts)


def expand_currency(text: str) -> str:
    """Amounts with a currency sign (before or after the number) as words."""

    def replace(match: re.Match[str]) -> str:
        currency = _CURRENCIES[match["sym"]]
        return money_words(match["amount"], currency, match["scale"])

    text = _CURRENCY_BEFORE_RE.sub(replace, text)
    return _CURRENCY_AFTER_RE.sub(replace, text)


def normalize_punctuation(text: str) -> str:
    """Typographic punctuation and spaces as their ASCII forms."""
    return text.translate(_PUNCTUATION)


def expand_degrees(text: str) -> str:
    return _DEGREES_RE.sub(lambda m: _DEGREE_NAMES[m[1]], text).replace("°", " degrees")


_EMOJI_MARK = "\x00"
_EMOJI_BEFORE_PUNCTUATION_RE = re.compile(r"\s*\x00+\s*(?=[!?.,;:)]|$)|^\s*\x00+\s*")


def drop_emoji(text: str) -> str:
    """Text without emoji (anyascii would spell one as ":name:", which nobody wants read),
    and without the space an emoji leaves before punctuation ("great 👍!" -> "great!")."""
    marked = "".join(_EMOJI_MARK if _is_emoji(char) else char for char in text)
    if _EMOJI_MARK not in marked:
        return text
    return _EMOJI_BEFORE_PUNCTUATION_RE.sub("", marked).replace(_EMOJI_MARK, " ")


# Emoji modifiers and joiners (skin tones, variation selectors, ZWJ, keycap, tags): part of
# an emoji, spelled as nothing by anyascii. The regional indicators that make up a flag are
# spelled as letters ("🇷🇺" would be read "ru"), so they are listed too.
_EMOJI_PARTS_RE = re.compile(
    "[\U0001f3fb-\U0001f3ff\ufe0e\ufe0f\u200d\u20e3\U000e0020-\U000e007f\U0001f1e6-\U0001f1ff]"
)


def _is_emoji(char: str) -> bool:
    if char.isascii():
        return False
    if _EMOJI_PARTS_RE.match(char):
        return True
    spelled = anyascii(char)
    return len(spelled) > 2 and spelled.startswith(":") and spelled.endswith(":")


def to_ascii(text: str) -> str:
    """ASCII text: Cyrillic words by the Russian scheme tuned for English phonetics, the rest
    by anyascii (accents dropped, other scripts romanised)."""
    text = CYRILLIC_WORD_RE.sub(lambda m: transliterate_russian(m[0]), text)
    return anyascii(text)


def _neighbours(match: re.Match[str]) -> tuple[str, str]:
    """The words before and after ``match`` (quotes stripped from the one after)."""
    before = match.string[: match.start()].split()
    after = match.string[match.end() :].split()
    return (before[-1] if before else "", after[0].lstrip("\"'") if after else "")


def _is_name(word: str) -> bool:
    return word[:1].isupper()


def _is_number_like(word: str) -> bool:
    return word[:1].isdigit()


def _keep_final_period(match: re.Match[str], expansion: str) -> str:
    """An abbreviation that ends the text also ends the sentence: keep its period."""
    return expansion + "." if not match.string[match.end() :].strip() else expansion


def expand_abbreviations(text: str) -> str:
    """Abbreviations as words, reading the ambiguous ones by their neighbours.

    Runs before lower-casing because a capital letter is what tells "St. Louis" (saint, a
    name follows) from "Downing St." (street, after a name or a number)."""
    for pattern, words in _LATIN_ABBREVIATIONS:
        text = pattern.sub(words, text)
    text = _NUMBER_SIGN_RE.sub("number ", text)
    text = _TITLES_WITHOUT_PERIOD_RE.sub(lambda m: _TITLES_WITHOUT_PERIOD[m[1]], text)

    def replace(match: re.Match[str]) -> str:
        word = match["word"].lower()
        before, after = _neighbours(match)
        if word in _ABBREVIATIONS:
            expansion = _ABBREVIATIONS[word]
        elif word in _MONTHS and (_is_number_like(after) or _is_number_like(before)):
            expansion = _MONTHS[word]
        elif word in _BEFORE_NAME_OR_AFTER:
            expansion = _contextual_reading(word, before, after)
        else:
            return match[0]
        return _keep_final_period(match, expansion)

    return _ABBREVIATION_RE.sub(replace, text)


def _contextual_reading(word: str, before: str, after: str) -> str:
    before_name, after_name = _BEFORE_NAME_OR_AFTER[word]
    if _is_number_like(before):
        return after_name
    if _is_name(after):
        return before_name
    if _is_name(before):
        return after_name
    return before_name if word == "dr" else after_name


def _time_words(hour: int, minute: int, half: str | None) -> str:
    hour_words = cardinal_words(hour)
    if minute == 0:
        minute_words = "" if half else "o'clock"
    elif minute < 10:
        minute_words = f"oh {cardinal_words(minute)}"
    else:
        minute_words = cardinal_words(minute)
    half_words = {"a": "ay em", "p": "pee em"}.get(half or "", "")
    return " ".join(part for part in (hour_words, minute_words, half_words) if part)


def _with_final_period(match: re.Match[str], words: str) -> str:
    """ "7 p.m." at the end of the text: the period also ends the sentence."""
    ends_text = not match.string[match.end() :].strip()
    return f"{words}." if match[0].endswith(".") and ends_text else words


def expand_numbers(text: str) -> str:
    """Times, grouped numbers, percentages, ordinals, decimals, fractions and integers as
    words (lower-case ASCII input)."""
    text = _TIME_RE.sub(
        lambda m: _with_final_period(m, _time_words(int(m["hour"]), int(m["minute"]), m["half"])),
        text,
    )
    text = _HOUR_HALF_RE.sub(
        lambda m: _with_final_period(m, _time_words(int(m["hour"]), 0, m["half"])), text
    )
    text = _NEGATIVE_RE.sub("minus ", text)
    text = _PERCENT_RE.sub(lambda m: f"{amount_words(m['number'])} percent", text)
    text = _GROUPED_NUMBER_RE.sub(lambda m: amount_words(m[0]), text)
    text = _UNIT_RE.sub(_unit_words, text)
    text = _ORDINAL_RE.sub(lambda m: ordinal_words(int(m["number"])), text)
    text = _FRACTION_RE.sub(lambda m: _FRACTIONS.get((m["num"], m["den"]), m[0]), text)
    text = _DECIMAL_RE.sub(lambda m: decimal_words(m["whole"], m["fraction"]), text)
    return _INTEGER_RE.sub(lambda m: integer_words(m[0]), text)


def _unit_words(match: re.Match[str]) -> str:
    one, many = _UNITS[match["unit"]]
    number = match["number"]
    return f"{amount_words(number)} {one if number == '1' else many}"


_SPACE_BEFORE_PUNCTUATION_RE = re.compile(r" +(?=[!,.:;?])")


def collapse_whitespace(text: str) -> str:
    return _WHITESPACE_RE.sub(" ", text).strip()


def tidy_spacing(text: str) -> str:
    """Whitespace collapsed, and no space before punctuation (which removed symbols and
    spelled-out signs leave: "C++." -> "c plus plus.")."""
    return _SPACE_BEFORE_PUNCTUATION_RE.sub("", collapse_whitespace(text))


def _symbols_as_words(text: str) -> str:
    for symbol, words in _SYMBOL_WORDS:
        text = text.replace(symbol, words)
    return text


def normalize_english(text: str) -> str:
    """English text as the English-trained model reads it (lower-case ASCII of the default
    symbol set, numbers and abbreviations as words)."""
    text = normalize_punctuation(text)
    text = drop_emoji(text)
    text = expand_degrees(text)
    text = expand_currency(text)
    text = to_ascii(text)
    text = expand_abbreviations(text)
    text = text.lower()
    text = expand_numbers(text)
    text = _symbols_as_words(text)
    text = NOT_DEFAULT_SYMBOL_RE.sub(" ", text)
    return tidy_spacing(text)
