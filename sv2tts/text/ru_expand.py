"""Numbers in Russian text as a literate native speaker reads them aloud.

:func:`expand_numbers_ru` rewrites every number of a sentence as Cyrillic words, in passes
from the most specific shape to the least (each pass leaves words, so no later pass sees
its digits again): phone numbers, dotted dates, times and scores, roman numerals,
fractions, compounds ("50-летие"), numbers with written suffixes ("2-х", "5-ю"), years,
dates, quantities with units or magnitudes, decimals, signs, then plain numbers. Each
number's reading (cardinal or ordinal, case, gender, animacy) comes from the words around
it (:mod:`sv2tts.text.ru_context`, :func:`sv2tts.text.ru_numbers.choose`). Any digit left
at the end is read digit by digit: the output never holds a digit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from sv2tts.text.ru_abbreviations import expand_acronyms, expand_before_numbers, expand_words
from sv2tts.text.ru_clock import (
    ARITHMETIC_RE,
    DOTTED_DATE_RE,
    DOTTED_TIME_RE,
    DURATION_RE,
    LOCAL_PHONE_RE,
    PHONE_RE,
    PLUS_RE,
    SCORE_RE,
    SHORT_DOTTED_DATE_RE,
    TIME_RE,
    arithmetic_words,
    dotted_date,
    dotted_time,
    duration_words,
    local_phone_words,
    phone_words,
    score_words,
    time_words,
)
from sv2tts.text.ru_context import (
    LABEL_NOUNS,
    RANKED_NOUNS,
    Context,
    case_of,
    context,
    governing,
    start_of_word_before,
    word_before,
)
from sv2tts.text.ru_morph import (
    ABLT,
    ACCS,
    GENT,
    LOCT,
    NOMN,
    forms,
    gender_of,
    has_tag,
    inflect,
    is_known,
    is_pos,
    lemma_of,
)
from sv2tts.text.ru_numbers import (
    COLLECTIVE_NOUNS,
    Reading,
    cardinal,
    choose,
    collective,
    compound_stem,
    counted_form,
    decimal,
    digits_ru,
    fraction,
    half_words,
    ordinal,
    say,
    spell_other_digits,
)
from sv2tts.text.ru_quantities import (
    DATE_RE,
    QUANTITY_RE,
    SIGN_FIRST_RE,
    UNIT_ALT,
    YEAR_RE,
    date_words,
    quantity_words,
    unit_words,
    year_words,
)

log = logging.getLogger(__name__)

Replacer = Callable[[re.Match[str]], str]

_DASH = r"\s*[-\u2013\u2014]\s*"
_NB = r"(?<![\w.,/:])"  # a number starts here: not inside a word, decimal or time
_NE = r"(?![\w]|[.,/:]\d)"  # and ends here

# --- roman numerals -----------------------------------------------------------------------

_ROMAN_RE = re.compile(
    r"(?<![^\s(\u00ab\"])(?P<r>[IVXLC]{1,7})(?:(?P<dash>" + _DASH + r")(?P<r2>[IVXLC]{1,7}))?"
    r"(?![\w+#-])(?:\s?(?P<abbr>вв?\.))?"
)
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def roman_value(numeral: str) -> int | None:
    """The value of a well-formed roman numeral up to 399; None for anything else."""
    total = 0
    for i, char in enumerate(numeral):
        value = _ROMAN_VALUES[char]
        following = _ROMAN_VALUES[numeral[i + 1]] if i + 1 < len(numeral) else 0
        total += -value if value < following else value
    if not 0 < total < 400 or _to_roman(total) != numeral:
        return None
    return total


def _to_roman(number: int) -> str:
    out = ""
    for value, letters in ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX")):
        while number >= value:
            out, number = out + letters, number - value
    for value, letters in ((5, "V"), (4, "IV"), (1, "I")):
        while number >= value:
            out, number = out + letters, number - value
    return out


def _roman(match: re.Match[str]) -> str:
    """ "XIX век" -> "девятнадцатый век", "Петру I" -> "Петру Первому", "в XX в." ->
    "в двадцатом веке". Left alone when neither a noun after it nor a name before it is
    Russian (so "C++" or "Windows XP" stay)."""
    first, second = roman_value(match["r"]), roman_value(match["r2"] or "I")
    if first is None or second is None:
        return match[0]
    text = match.string
    before = word_before(text, match.start())
    name = bool(before) and before[0].isalpha() and has_tag(before, "Name")
    ctx = context(text, match.start(), match.end())
    if match["abbr"]:
        plural = match["abbr"] == "вв." or bool(match["r2"])
        case = case_of(ctx, place=True)
        reading = Reading(True, case, "masc", False, False)
        noun = inflect("век", case, "plur" if plural else "sing")
    elif name:
        nouns = tuple(f for f in forms(before) if f.number == "sing")
        reading = choose(first, nouns, (), prefer_ordinal=True)
        if not reading.ordinal:
            reading = Reading(True, nouns[0].case if nouns else NOMN, "masc", False, False)
        words = say(first, reading)
        return words[:1].upper() + words[1:]
    elif ctx.nouns and re.match(r"\s*[а-яё]", text[match.end() :]):
        reading = _ordinal_reading(first, ctx)
        noun = ""
    elif len(match["r"]) > 1 and before[:1].isalpha() and "а" <= before[:1] <= "я":
        # "конец XX — начало XXI века": no noun of its own, read as the century it names,
        # genitive after a noun.
        case = GENT if is_pos(before, "NOUN") else case_of(ctx)
        reading, noun = Reading(True, case, "masc", False, False), ""
    else:
        return match[0]
    words = say(first, reading._replace(plural=False))
    if match["r2"]:
        words += " " + say(second, reading._replace(plural=False))
    return f"{words} {noun}".rstrip() if match["abbr"] else words


def _ordinal_reading(number: int, ctx: Context, suffix: str = "") -> Reading:
    """The ordinal that agrees with the noun after it ("в XX веке" -> prepositional)."""
    reading = choose(number, ctx.nouns, ctx.governed, prefer_ordinal=True, suffix=suffix)
    if reading.ordinal:
        return reading
    return Reading(True, case_of(ctx), "masc", False, False)


# --- fractions, compounds, suffixed numbers -----------------------------------------------

_FRACTION_RE = re.compile(
    _NB + r"(?P<a>\d+)/(?P<b>\d+)(?![\d/]|[.,]\d)(?:\s?(?P<unit>" + UNIT_ALT + "))?"
)


def _fraction(match: re.Match[str]) -> str:
    """ "3/4" -> "три четвёртых"; "1/2 ч. л." -> "одна вторая чайной ложки"; "50/50" and
    "24/7" -> "пятьдесят на пятьдесят"."""
    top, bottom = int(match["a"]), int(match["b"])
    unit = unit_words(match["unit"], GENT, "sing") if match["unit"] else ""
    if not 0 < top < bottom <= 100:
        words = f"{cardinal(top)} на {cardinal(bottom)}"
        return f"{words} {match['unit']}" if match["unit"] else words
    ctx = context(match.string, match.start(), match.end())
    before = word_before(match.string, match.start())
    # "играют в 1/8 финала" is where (prepositional); "вышли в 1/8 финала" where to.
    start = start_of_word_before(match.string, match.start())
    place = before in ("в", "во") and not is_pos(word_before(match.string, start), "VERB")
    words = fraction(top, bottom, case_of(ctx, place=place))
    return f"{words} {unit}" if unit else words


# "50-летие", "2-комнатная", "100-процентный": the stem of the numeral joined to the word.
_COMPOUND_RE = re.compile(_NB + r"(?P<n>\d+)-(?P<word>[а-яё]{4,})", re.IGNORECASE)
# "2-х комнатная": joined when the joined word is in the dictionary.
_SPLIT_COMPOUND_RE = re.compile(
    _NB + r"(?P<n>\d+)-?(?:х|ти|ми)\s(?P<word>[а-яё]{4,})", re.IGNORECASE
)


def _compound(match: re.Match[str]) -> str:
    return compound_stem(int(match["n"])) + match["word"]


def _split_compound(match: re.Match[str]) -> str:
    joined = compound_stem(int(match["n"])) + match["word"]
    return joined if is_known(joined) else match[0]


_SUFFIXED_RE = re.compile(
    _NB + r"(?P<n>\d+)-(?P<suffix>[а-яё]{1,3})(?![\w-])(?:\s(?P<unit>" + UNIT_ALT + "))?",
    re.IGNORECASE,
)
# Suffixes that, on these numbers, write a cardinal ("2-х" двух, "5-ти" пяти, "3-мя" тремя).
_CARDINAL_SUFFIXES = frozenset({"ти", "ми", "мя", "ью", "ех", "ёх", "ух"})


def _suffixed(match: re.Match[str]) -> str:
    """ "2-х" -> "двух", "1-го" -> "первого", "5-ю главу" -> "пятую", "90-х" -> "девяностых"."""
    number, suffix = int(match["n"]), match["suffix"].lower()
    ctx = context(match.string, match.start(), match.end())
    cardinal_first = suffix in _CARDINAL_SUFFIXES or (suffix == "х" and 2 <= number % 10 <= 4)
    collective = _collective(number, Reading(False, NOMN, "masc", False, False), ctx)
    if collective.endswith(suffix):
        return collective  # "3-е суток"
    if suffix == "ю" and not ctx.nouns:
        cardinal_first = number >= 5
    decade = number % 10 == 0 and number >= 20 and not ctx.nouns
    if decade and suffix in ("е", "х", "ые", "ых", "ми", "ыми"):
        case = case_of(ctx)
        if suffix in ("х", "ых"):
            case = GENT if case in (NOMN, ACCS) else case
        elif suffix in ("ми", "ыми"):
            case = ABLT
        return ordinal(number, case, plural=True)
    reading = choose(
        number,
        ctx.nouns,
        ctx.governed,
        prefer_ordinal=not cardinal_first,
        suffix=suffix,
        default_case=ctx.default_case,
    )
    words = say(number, reading)
    if not words.endswith(suffix):
        return match[0]
    if match["unit"]:  # "в 7-ми км": the unit counted by the number, in its form
        case, count = (
            (reading.case, "sing") if reading.ordinal else counted_form(number, reading.case)
        )
        words = f"{words} {unit_words(match['unit'], case, count) or match['unit']}"
    return words


# --- decimals, signs, plain numbers -------------------------------------------------------

# A version: after "версия", after a Latin name ("Python 3.11"), or with two dots.
_VERSION_RE = re.compile(
    r"(?:(?i:(?<=верси[яиюей]\s))|(?<=[A-Za-z]\s))(?P<v>\d+(?:\.\d+)+)"
    r"|(?P<v2>\d+(?:\.\d+){2,})"
)
_DECIMAL_RE = re.compile(_NB + r"(?P<w>\d+)[.,](?P<f>\d+)" + _NE)
_AGE_LIMIT_RE = re.compile(_NB + r"(?P<n>\d+)\+(?!\d)")
_SIGN_RE = re.compile(r"(?<![\w,)])(?<![\w,)]\.)(?P<sign>[-+\u2212])(?=\d)")
_NUMBER_SIGN_RE = re.compile(r"№\s?(?=\d)")
# "100к", "15k": thousands, as messages write them.
_KILO_RE = re.compile(r"(?<![\w.,])(?P<n>\d+(?:[.,]\d+)?)[кkК](?!\w)")
_THOUSANDS_RE = re.compile(r"(?<![\d.,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d])")
_INTEGER_RE = re.compile(_NB + r"(?P<n>\d+)(?:(?P<dash>" + _DASH + r")(?P<n2>\d+))?(?!\d)")
_DIGITS_RE = re.compile(r"\d+")


def _version(match: re.Match[str]) -> str:
    return " ".join(cardinal(int(part)) for part in (match["v"] or match["v2"]).split("."))


def _decimal(match: re.Match[str]) -> str:
    """ "3,14" -> "три целых четырнадцать сотых"; "1,5" before a noun is "полтора"
    ("в 1,5 раза", "1,5 часа")."""
    ctx = context(match.string, match.start(), match.end())
    case = case_of(ctx)
    if match["w"] == "1" and match["f"] == "5" and ctx.nouns:
        return half_words(1, case, ctx.nouns[0].gender or "masc")
    return decimal(match["w"], match["f"], case)


_RANKED_RANGE_END_RE = re.compile(r"\s+(?:по|до)\s+\d+(?:-\w+)?\s+(?P<noun>[а-яё]+)")


_YEAR_PARTNER_AFTER_RE = re.compile(r"\s+(?:по|до|и)\s+\d{4}(?!\d)")
_YEAR_PARTNER_BEFORE_RE = re.compile(r"(?<!\d)\d{4}\s+(?:по|до|и)\s+$")


def _bare_year(match: re.Match[str], before: str) -> bool:
    """A four-digit number with no noun is a year after "в" ("в 1999"), or in a range of
    years ("с 2010 по 2015"); "с 1 200 до 990 рублей" is a price."""
    if before in ("в", "во"):
        return True
    text = match.string
    if not governing(text, match.start())[0]:
        return False
    return bool(
        _YEAR_PARTNER_AFTER_RE.match(text, match.end())
        or _YEAR_PARTNER_BEFORE_RE.search(text[: match.start()])
    )


def _is_ruler(text: str, start: int, before: str) -> bool:
    """Whether the word before ``start`` is a capitalised first name ("Пётр", "Екатерины")."""
    index = text.rfind(before[:1].upper() + before[1:], 0, start) if before else -1
    return index >= 0 and index + len(before) >= start - 1 and has_tag(before, "Name")


def _integer(match: re.Match[str]) -> str:
    """A plain number, or a range "2–3 дня" whose first number takes the second's form."""
    text = match.string
    last = int(match["n2"] or match["n"])
    ctx = context(text, match.start(), match.end())
    before = word_before(text, match.start())
    if not match["n2"] and not ctx.nouns and last < 30 and _is_ruler(text, match.start(), before):
        # "Пётр 1", "Петру 1": a ruler's number, as with roman numerals.
        nouns = tuple(f for f in forms(before) if f.number == "sing")
        reading = choose(last, nouns, (), prefer_ordinal=True)
        words = say(last, reading if reading.ordinal else Reading(True, NOMN, "masc", False, False))
        return words[:1].upper() + words[1:]
    if not match["n2"] and not ctx.nouns and 1000 <= last <= 2100 and _bare_year(match, before):
        # "в 1999", "с 2010 по 2015": a year; its "году"/"года" is left unsaid.
        return ordinal(last, LOCT if before in ("в", "во") else ctx.governed[0])
    ranked_end = _RANKED_RANGE_END_RE.match(text, match.end())
    if not match["n2"] and ranked_end and lemma_of(ranked_end["noun"]) in RANKED_NOUNS:
        # "с 1 по 5 класс": the first of a range of places, in its own preposition's case.
        gender = gender_of(lemma_of(ranked_end["noun"]))
        return ordinal(last, case_of(ctx), gender)
    plural_nouns = [noun for noun in ctx.nouns if noun.number == "plur"]
    if match["n2"] and ctx.ranked and plural_nouns:
        # "ученики 5–11 классов": a range of places in a sequence, in the noun's case.
        case = next((n.case for n in plural_nouns if n.case in ctx.governed), plural_nouns[0].case)
        reading = Reading(True, case, "masc", True, False)
    else:
        nouns = ctx.nouns
        if before in ("по", "на") and last != 1:
            # "по 3 человека", "на 2 человека": counted, not the animate accusative (which
            # "на одного человека" keeps).
            nouns = tuple(noun._replace(animate=False) for noun in nouns)
        label = is_pos(before, "NOUN") and lemma_of(before) in LABEL_NOUNS
        reading = choose(
            last,
            nouns,
            (NOMN,) if label else ctx.governed,
            default_case=ctx.default_case,
            ranked=ctx.ranked,
        )
        if label and reading.ordinal:  # "у дома 12 парковка": the number names the house
            reading = Reading(False, NOMN, "masc", False, False)
    collective = _collective(last, reading, ctx)
    words = collective or say(last, reading)
    if not match["n2"]:
        return words
    first = int(match["n"])
    return f"{_collective(first, reading, ctx) or say(first, reading)} {words}"


def _collective(number: int, reading: Reading, ctx: Context) -> str:
    """ "трое детей" where nothing governs the number (then it is the subject or object)."""
    if reading.ordinal or ctx.governed or ctx.noun.lower() not in COLLECTIVE_NOUNS:
        return ""
    return collective(number)


def expand_numbers_ru(text: str) -> str:
    """Every number of ``text`` as Russian words in the form the words around it ask for."""
    text = text.replace("\u2212", "-")
    passes: tuple[tuple[re.Pattern[str], Replacer | str], ...] = (
        (PHONE_RE, phone_words),
        (LOCAL_PHONE_RE, local_phone_words),
        (ARITHMETIC_RE, arithmetic_words),
        (PLUS_RE, " плюс "),
        (_THOUSANDS_RE, lambda m: re.sub(r"\s", "", m[0])),
        (_KILO_RE, lambda m: f"{m['n']} тыс."),
        (DOTTED_DATE_RE, dotted_date),
        (SHORT_DOTTED_DATE_RE, dotted_date),
        (DURATION_RE, duration_words),
        (TIME_RE, time_words),
        (DOTTED_TIME_RE, dotted_time),
        (SCORE_RE, score_words),
        (_ROMAN_RE, _roman),
        (_FRACTION_RE, _fraction),
        (_NUMBER_SIGN_RE, "номер "),
        (_SPLIT_COMPOUND_RE, _split_compound),
        (_COMPOUND_RE, _compound),
        (YEAR_RE, year_words),
        (DATE_RE, date_words),
        (_SUFFIXED_RE, _suffixed),
        (SIGN_FIRST_RE, quantity_words),
        (QUANTITY_RE, quantity_words),
        (_SIGN_RE, lambda m: "плюс " if m["sign"] == "+" else "минус "),
        (_VERSION_RE, _version),
        (_DECIMAL_RE, _decimal),
        (_AGE_LIMIT_RE, lambda m: f"{cardinal(int(m['n']))} плюс"),
        (_INTEGER_RE, _integer),
        (_DIGITS_RE, lambda m: digits_ru(m[0])),
    )
    for pattern, replacement in passes:
        text = pattern.sub(replacement, text)
    return spell_other_digits(text)


_TERMINAL = (".", "!", "?", "\u2026")


# A preposition takes its vowel before a cluster it would merge with: "со ста", "во
# втором", "ко второму" (the digits did not show the cluster the words begin with).
_VOWEL_PREPOSITION_RE = re.compile(
    r"\b(?:(?P<s>[сС])(?=\s+(?:[сзшж][бвгджзклмнпрстфхцчшщ]|вт|вс|мн))"
    r"|(?P<v>[вВ])(?=\s+(?:[вф][бвгджзклмнпрстфхцчшщ]|мн))"
    r"|(?P<k>[кК])(?=\s+(?:вт|мн)))\b"
)
_ABOUT_RE = re.compile(r"\b([оО])(?=\s+[аиоуэ])")  # "об одном", "об искусстве"


def _with_vowel(match: re.Match[str]) -> str:
    return match[0] + "о"


def expand_russian(text: str) -> str:
    """Russian text with its numbers, abbreviations and acronyms as Cyrillic words;
    punctuation, Latin words and everything else kept. Never leaves a digit."""
    expanded = expand_before_numbers(text)
    expanded = expand_numbers_ru(expanded)
    expanded = expand_acronyms(expand_words(expanded))
    expanded = _VOWEL_PREPOSITION_RE.sub(_with_vowel, expanded)
    expanded = _ABOUT_RE.sub(lambda m: m[1] + "б", expanded)
    if text.rstrip().endswith(".") and not expanded.rstrip().endswith(_TERMINAL):
        expanded = expanded.rstrip() + "."  # "5 шт." ended the sentence as well as the unit
    return expanded
