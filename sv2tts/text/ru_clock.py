"""Russian numbers with a shape of their own: phone numbers read in groups ("+7 999
123-45-67"), dates written with points ("01.09.2024", "10.12"), times ("в 10:30", "к
19:30", "в 19.00") in the case their preposition asks, durations ("2:01:09"), scores
("3:2") and arithmetic ("5 + 3 = 8").

Each is a ``re.sub`` replacement used by :func:`sv2tts.text.ru_expand.expand_numbers_ru`.
"""

from __future__ import annotations

import logging
import re

from sv2tts.text.ru_context import governing, word_before
from sv2tts.text.ru_morph import ACCS, NOMN
from sv2tts.text.ru_numbers import cardinal
from sv2tts.text.ru_quantities import MONTHS

log = logging.getLogger(__name__)

# --- phone numbers ------------------------------------------------------------------------

PHONE_RE = re.compile(
    r"(?<![\w+])(?P<cc>\+\d{1,3}|8)[\s-]*\(?(?P<area>(?<=\()\d{2,5}|\d{3}|(?<=\+\d{3} )\d{2})\)?"
    r"[\s-]*(?P<a>\d{2,3})[\s-]?(?P<b>\d{2})[\s-]?(?P<c>\d{2})(?!\d)"
)
# A local number written with hyphens: "123-45-67", "22-33-44".
LOCAL_PHONE_RE = re.compile(r"(?<![\d.,-])(?P<a>\d{2,3})-(?P<b>\d{2})-(?P<c>\d{2})(?![\d-])")


def _group(digits: str) -> str:
    """A group of a phone number as Russians say it: "050" -> "ноль пятьдесят", a code of
    four digits in pairs ("8452" -> "восемьдесят четыре пятьдесят два")."""
    if len(digits) > 3:
        return f"{_group(digits[:-2])} {_group(digits[-2:])}"
    if digits.startswith("0"):
        return " ".join(("ноль", _group(digits[1:]))) if len(digits) > 1 else "ноль"
    return cardinal(int(digits)) if digits else ""


def local_phone_words(match: re.Match[str]) -> str:
    return " ".join(_group(match[name]) for name in ("a", "b", "c"))


def phone_words(match: re.Match[str]) -> str:
    code = match["cc"]
    head = f"плюс {cardinal(int(code[1:]))}" if code.startswith("+") else cardinal(int(code))
    groups = (match[name] for name in ("area", "a", "b", "c"))
    return " ".join([head, *(_group(g) for g in groups)])


# --- dates, times, scores -----------------------------------------------------------------

DOTTED_DATE_RE = re.compile(
    r"(?<![\d.])(?P<d>0?[1-9]|[12]\d|3[01])\.(?P<m>0?[1-9]|1[0-2])\.(?P<y>\d{4}|\d{2})(?![\d]|\.\d)"
)


# "10.12" with two digits each side and a real day and month: a date (Russian decimals
# are written with a comma).
SHORT_DOTTED_DATE_RE = re.compile(
    r"(?<![\d.,])(?P<d>0[1-9]|[12]\d|3[01])\.(?P<m>0[1-9]|1[0-2])(?![\d]|[.,]\d)"
)


def dotted_date(match: re.Match[str]) -> str:
    year = match.groupdict().get("y")
    if year and len(year) == 2:  # "01.09.24": this century up to 40 years ahead
        year = ("20" if int(year) <= 40 else "19") + year
    date = f"{int(match['d'])} {MONTHS[int(match['m']) - 1]}"
    return f"{date} {year}" if year else date


# "2:01:09": a duration in hours, minutes and seconds.
DURATION_RE = re.compile(r"(?<![\d:.,])(?P<h>\d{1,2}):(?P<m>[0-5]\d):(?P<s>[0-5]\d)(?![\d:])")
_DURATION_UNITS = ((("час", "часа", "часов"), "masc"), (("минута", "минуты", "минут"), "femn"),
                   (("секунда", "секунды", "секунд"), "femn"))  # fmt: skip


def duration_words(match: re.Match[str]) -> str:
    """ "2:01:09" -> "два часа одна минута девять секунд" (a zero part is left out)."""
    parts = []
    for value, (forms, gender) in zip(
        (int(match["h"]), int(match["m"]), int(match["s"])), _DURATION_UNITS, strict=True
    ):
        if value:
            one, few, many = forms
            last = value % 100
            form = (
                one if value % 10 == 1 and last != 11
                else few if 2 <= value % 10 <= 4 and not 12 <= last <= 14
                else many
            )  # fmt: skip
            parts.append(f"{cardinal(value, NOMN, gender)} {form}")
    return " ".join(parts) or "ноль секунд"


TIME_RE = re.compile(r"(?<![\d:.,])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?![\d:])")
SCORE_RE = re.compile(r"(?<![\d:.,])(?P<a>\d{1,3}):(?P<b>\d{1,3})(?![\d:])")


def _minutes(digits: str, case: str) -> str:
    if digits == "00":
        return "ноль ноль"
    if digits.startswith("0"):
        return f"ноль {cardinal(int(digits), case)}"
    return cardinal(int(digits), case)


def time_words(match: re.Match[str]) -> str:
    """ "в 10:30" -> "в десять тридцать", "к 19:30" -> "к девятнадцати тридцати"."""
    governed, default = governing(match.string, match.start())
    case = governed[0] if governed else default
    case = NOMN if case == ACCS else case
    hour = cardinal(int(match["h"]), case)
    if match["m"] == "00" and _TIME_OF_DAY_RE.match(match.string, match.end()):
        return hour  # "в 7:00 утра" is "в семь утра"
    return f"{hour} {_minutes(match['m'], case)}"


_TIME_OF_DAY_RE = re.compile(r"\s+(?:утра|дня|вечера|ночи)\b")


# "в 19.00": a time written with a point, after a word that asks for one.
DOTTED_TIME_RE = re.compile(r"(?<![\d.,])(?P<h>[01]?\d|2[0-3])\.(?P<m>[0-5]\d)(?![\d]|[.,]\d)")
_TIME_WORDS = frozenset({"в", "во", "на", "к", "ко", "до", "с", "со", "после", "около", "от"})


def dotted_time(match: re.Match[str]) -> str:
    if word_before(match.string, match.start()) not in _TIME_WORDS:
        return match[0]
    return time_words(match)


def score_words(match: re.Match[str]) -> str:
    return f"{cardinal(int(match['a']))} {cardinal(int(match['b']))}"


# Arithmetic: "2+2", "5 + 3 = 8", "10 - 3 = 7".
ARITHMETIC_RE = re.compile(
    r"(?<![\w.,])(?P<a>\d+)\s*(?P<op>[-+\u2212×*/:])\s*(?P<b>\d+)\s*=\s*(?P<c>-?\d+)(?![\d])"
)
PLUS_RE = re.compile(r"(?<=\d)\s*\+\s*(?=\d)")
_OPERATORS = {
    "+": "плюс", "-": "минус", "\u2212": "минус", "×": "умножить на", "*": "умножить на",
    "/": "разделить на", ":": "разделить на",
}  # fmt: skip


def arithmetic_words(match: re.Match[str]) -> str:
    result = match["c"]
    said = f"минус {cardinal(int(result[1:]))}" if result.startswith("-") else cardinal(int(result))
    return (
        f"{cardinal(int(match['a']))} {_OPERATORS[match['op']]} {cardinal(int(match['b']))}"
        f" равно {said}"
    )
