"""Russian number words in every case, and the choice of the reading that agrees with the
words around a number.

A number is read as a cardinal or an ordinal in one of six cases; which one is decided by
grammar, not by a list of phrases:

- the counted noun after it (skipping adjectives): "о 21 задаче" has the noun in the
  prepositional singular, and only the prepositional cardinal agrees with that
  (двадцати одной); "на 3 путь" has no cardinal that agrees, but the ordinal does (третий);
- the case its preposition, comparative or verb governs ("до 10" genitive, "к 5" dative,
  "равно 3" dative, "купи 1 тетрадь" accusative);
- a suffix written after it ("2-х", "5-ю", "1-го"): only readings ending in those letters.

Agreement of a cardinal with the noun it counts (the rules of any Russian grammar):
in the nominative and inanimate accusative, 1 (21, 31 ... not 11) takes the noun in the
singular of the same case, 2-4 (22-24 ... not 12-14) the genitive singular, the rest the
genitive plural; 2, 3 and 4 alone count animate nouns in the accusative with their genitive
form ("пригласили двух гостей"); in the other cases the noun stands in the number's case,
singular after 1 and plural otherwise.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from num2words import num2words

from sv2tts.text.ru_morph import ACCS, CASES, GENT, N2W_CASE, NOMN, Form

log = logging.getLogger(__name__)

# Longer numbers are read digit by digit (num2words stops at 10**36 anyway).
MAX_NUMBER_DIGITS = 15
DIGIT_NAMES = ("ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")
_GENDER = {"masc": "m", "femn": "f", "neut": "n", None: "m", "m": "m", "f": "f", "n": "n"}


class Reading(NamedTuple):
    """One way to say a number: a cardinal or ordinal in a case, gender and number."""

    ordinal: bool
    case: str
    gender: str  # "masc", "femn", "neut"
    plural: bool  # ordinals only: "девяностые"
    animate: bool  # accusative only: "двух гостей"


def digits_ru(digits: str) -> str:
    return " ".join(DIGIT_NAMES[int(d)] for d in digits if d.isdigit())


def _drop_leading_one(words: str, number: int) -> str:
    """ "одна тысяча пятьсот" is said "тысяча пятьсот", "один миллион" "миллион"."""
    head, _, rest = words.partition(" ")
    if number >= 1000 and rest and head.startswith(("одн", "один")) and str(number)[0] == "1":
        leading = len(str(number)) % 3 or 3
        if leading == 1:
            return rest
    return words


# "около нуля", "с нулём": the forms with у are the ones in use.
_ZERO = {"ноля": "нуля", "нолю": "нулю", "нолём": "нулём", "ноле": "нуле"}


@functools.lru_cache(maxsize=4096)
def cardinal(number: int, case: str = NOMN, gender: str = "masc", animate: bool = False) -> str:
    """ "21" in the prepositional feminine: "двадцати одной"."""
    if len(str(number)) > MAX_NUMBER_DIGITS:
        return digits_ru(str(number))
    words = num2words(
        number, lang="ru", case=N2W_CASE[case], gender=_GENDER[gender], animate=animate
    )
    if number == 0:
        return _ZERO.get(words, words)
    return _drop_leading_one(words, number)


@functools.lru_cache(maxsize=4096)
def ordinal(
    number: int, case: str = NOMN, gender: str = "masc", plural: bool = False, animate: bool = False
) -> str:
    """ "1990" in the prepositional: "тысяча девятьсот девяностом"."""
    if len(str(number)) > MAX_NUMBER_DIGITS:
        return digits_ru(str(number))
    return num2words(
        number,
        lang="ru",
        to="ordinal",
        case=N2W_CASE[case],
        gender=_GENDER[gender],
        plural=plural,
        animate=animate,
    )


def say(number: int, reading: Reading) -> str:
    if reading.ordinal:
        return ordinal(number, reading.case, reading.gender, reading.plural, reading.animate)
    return cardinal(number, reading.case, reading.gender, reading.animate)


def _one(number: int) -> bool:
    return number % 10 == 1 and number % 100 != 11


def _few(number: int) -> bool:
    return 2 <= number % 10 <= 4 and not 12 <= number % 100 <= 14


def counted_form(number: int, case: str, animate: bool = False) -> tuple[str, str]:
    """(case, number) of the noun a cardinal ``number`` in ``case`` counts."""
    if case in (NOMN, ACCS):
        if _one(number):
            return case, "sing"
        if _few(number):
            if case == ACCS and animate and number in (2, 3, 4):
                return ACCS, "plur"
            return GENT, "sing"
        return GENT, "plur"
    return case, "sing" if _one(number) else "plur"


def agrees(number: int, reading: Reading, noun: Form) -> bool:
    """Whether ``noun`` (one reading of the word after the number) agrees with ``reading``."""
    if reading.ordinal:
        if noun.case != reading.case:
            return False
        if reading.case == ACCS and reading.animate != noun.animate:
            return False
        if reading.plural:
            return noun.number == "plur"
        return noun.number == "sing" and noun.gender in (reading.gender, None)
    case, count = counted_form(number, reading.case, noun.animate)
    # pymorphy gives the animate accusative plural as its own reading or as a genitive.
    animate_plural = case == ACCS and count == "plur" and (noun.case, noun.number) == (GENT, "plur")
    if (noun.case, noun.number) != (case, count) and not animate_plural:
        return False
    if reading.case == ACCS and number in (1, 2, 3, 4) and noun.animate != reading.animate:
        return False
    if _one(number) or (number % 10 == 2 and number % 100 != 12):
        return noun.gender in (reading.gender, None) or noun.number == "plur"
    return True


def readings(ordinals: bool, cases: Iterable[str] = CASES) -> list[Reading]:
    """Every reading of one kind in ``cases``: genders and animacy for cardinals, genders
    and plural for ordinals."""
    out: list[Reading] = []
    for case in cases:
        for gender in ("masc", "femn", "neut"):
            if ordinals:
                out.append(Reading(True, case, gender, False, False))
                if case == ACCS:
                    out.append(Reading(True, case, gender, False, True))
            else:
                out.append(Reading(False, case, gender, False, False))
                if case == ACCS:
                    out.append(Reading(False, case, gender, False, True))
        if ordinals:
            out.append(Reading(True, case, "masc", True, False))
            if case == ACCS:
                out.append(Reading(True, case, "masc", True, True))
    return out


def choose(
    number: int,
    nouns: Sequence[Form],
    governed: Sequence[str],
    *,
    prefer_ordinal: bool = False,
    suffix: str = "",
    default_case: str = NOMN,
    ranked: bool = False,
) -> Reading:
    """The reading of ``number`` that agrees with the counted noun's readings ``nouns``
    (empty when none follows) and the cases ``governed`` by the word before it.

    With a preposition, only its cases are tried (cardinal, then ordinal); without one,
    the default case, then any case a noun shows ("хватает 21 рубля"), then ordinals.
    A written ``suffix`` keeps only readings that end in it; without one, ordinals are
    singular ("на 7 вечера" is not "седьмые"). Where cardinal and ordinal agree alike (a
    number ending in 1 before a singular noun in an oblique case, or in the accusative
    after a preposition) a ``ranked`` noun, one that names a place in a sequence, takes the
    ordinal: "в 21 веке" is "двадцать первом", "в 1 класс" "в первый", but "о 21 задаче"
    "двадцати одной" and "осталось 1 место" "одно"."""
    kinds = (True, False) if prefer_ordinal else (False, True)
    first = list(governed) or [default_case] + ([NOMN] if default_case != NOMN else [])
    rest = [case for case in CASES if case not in first]
    if governed:
        groups = [(kind, first) for kind in kinds] + [(kind, rest) for kind in kinds]
    else:
        # Nothing governs: the default case, then any case the noun shows; cardinals
        # before ordinals.
        groups = [(kinds[0], first), (kinds[0], rest), (kinds[1], first), (kinds[1], rest)]
    fitting: list[Reading] = []
    for kind, cases in groups:
        candidates = [
            reading
            for reading in readings(kind, cases)
            if (say(number, reading).endswith(suffix) if suffix else not reading.plural)
        ]
        fitting.extend(candidates)
        for noun in nouns:
            for reading in candidates:
                if agrees(number, reading, noun):
                    oblique = reading.case != NOMN and (governed or reading.case != ACCS)
                    if ranked and not reading.ordinal and oblique:
                        return reading._replace(ordinal=True) if _one(number) else reading
                    return reading
    if fitting:
        # Nothing agrees (no noun, or one the dictionary reads otherwise): the first reading
        # in the preferred kind and case, masculine and inanimate.
        return fitting[0]
    return Reading(False, first[0], "masc", False, False)


# --- decimals, fractions, compounds ------------------------------------------------------

_FRACTION_DENOMINATORS = {1: 10, 2: 100, 3: 1000, 4: 10000, 5: 100000, 6: 1000000}


# "целая" declined: singular by case, plural by case (the nominative plural is not used).
_WHOLE_SING = {
    "nomn": "целая", "gent": "целой", "datv": "целой", "accs": "целую", "ablt": "целой",
    "loct": "целой",
}  # fmt: skip
_WHOLE_PLUR = {"gent": "целых", "datv": "целым", "ablt": "целыми", "loct": "целых"}


def _counted_part(count: int, case: str, denominator: int | None) -> str:
    """ "целая" (``denominator`` None) or "десятая", "сотая" ... after a cardinal ``count``
    in ``case``: "одна целая", "две целых", "трём целым", "одной десятой"."""
    if _one(count):
        if denominator is None:
            return _WHOLE_SING[case]
        return ordinal(denominator, case, "femn")
    plural_case = GENT if case in (NOMN, ACCS) else case
    if denominator is None:
        return _WHOLE_PLUR[plural_case]
    return ordinal(denominator, plural_case, plural=True)


def decimal(whole: str, fraction: str, case: str = NOMN) -> str:
    """ "3,14" -> "три целых четырнадцать сотых"; in the dative "трём целым четырнадцати
    сотым". More than three decimals are read digit by digit after "запятая"."""
    if len(fraction) > 3 or len(whole.lstrip("0")) > MAX_NUMBER_DIGITS:
        return f"{cardinal(int(whole), case)} запятая {digits_ru(fraction)}"
    whole_n, frac_n = int(whole), int(fraction)
    return " ".join(
        (
            cardinal(whole_n, case, "femn"),
            _counted_part(whole_n, case, None),
            cardinal(frac_n, case, "femn"),
            _counted_part(frac_n, case, _FRACTION_DENOMINATORS[len(fraction)]),
        )
    )


def fraction(numerator: int, denominator: int, case: str = NOMN) -> str:
    """ "3/4" -> "три четвёртых"; "1/2" in the accusative "одну вторую"."""
    top = cardinal(numerator, case, "femn")
    if _one(numerator):
        bottom = ordinal(denominator, case, "femn")
    elif case in (NOMN, ACCS):
        bottom = ordinal(denominator, GENT, plural=True)
    else:
        bottom = ordinal(denominator, case, plural=True)
    return f"{top} {bottom}"


_STEM_FIXES = {"ста": "сто", "девяноста": "девяносто", "одного": "одно", "тысячи": "тысяче"}


def compound_stem(number: int) -> str:
    """The numeral stem of a compound word: 2 -> "двух" (двухкомнатная), 50 -> "пятидесяти"
    (пятидесятилетие), 100 -> "сто" (столетие), 40 -> "сорока", 1 -> "одно"."""
    words = cardinal(number, GENT).split()
    return "".join(_STEM_FIXES.get(word, word) for word in words)


def half_words(whole: int, case: str, gender: str) -> str:
    """ "1,5" counting a noun: "полтора"/"полторы" (oblique "полутора"); "2,5": "два с
    половиной"."""
    if whole == 1:
        if case in (NOMN, ACCS):
            return "полторы" if gender == "femn" else "полтора"
        return "полутора"
    return f"{cardinal(whole, case, gender)} с половиной"


# Nouns counted with collective numerals in the nominative ("трое детей", "двое суток").
COLLECTIVE_NOUNS = frozenset({"детей", "ребят", "суток", "саней", "ножниц", "брюк"})
_COLLECTIVES = (
    "двое", "трое", "четверо", "пятеро", "шестеро", "семеро", "восьмеро", "девятеро", "десятеро",
)  # fmt: skip


def collective(number: int) -> str:
    """ "двое", "трое" ... "десятеро"; "" for other numbers."""
    return _COLLECTIVES[number - 2] if 2 <= number <= 10 else ""


_POWERS = {"\u00b2": "в квадрате", "\u00b3": "в кубе"}


def spell_other_digits(text: str) -> str:
    """Superscripts and other characters that count as digits but are not ``\\d``."""
    if not any(char.isdigit() for char in text):
        return text
    out = []
    for char in text:
        if char.isdigit():
            word = _POWERS.get(char) or DIGIT_NAMES[unicodedata.digit(char, 0) % 10]
            out.append(f" {word} ")
        else:
            out.append(char)
    spelled = re.sub(r" {2,}", " ", "".join(out))
    # No space the text did not have at its ends.
    spelled = spelled if text[-1:].isspace() else spelled.rstrip()
    return spelled if text[:1].isspace() else spelled.lstrip()
