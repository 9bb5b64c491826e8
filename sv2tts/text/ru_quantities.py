"""Russian quantities, years and dates as words: "5 тыс. руб." -> "пять тысяч рублей",
"при 100 °C" -> "при ста градусах Цельсия", "в 2024 г." -> "в две тысячи двадцать
четвёртом году", "с 5 по 10 мая" -> "с пятого по десятое мая".

Each function here is a ``re.sub`` replacement used by :func:`sv2tts.text.ru_expand.
expand_numbers_ru`, which runs them in order; the case of each number comes from the words
around it (:mod:`sv2tts.text.ru_context`).
"""

from __future__ import annotations

import logging
import re

from sv2tts.text.ru_context import case_of, context, governing, word_before
from sv2tts.text.ru_morph import (
    ABLT,
    ACCS,
    DATV,
    GENT,
    LOCT,
    NOMN,
    forms,
    gender_of,
    inflect,
    is_pos,
)
from sv2tts.text.ru_numbers import cardinal, counted_form, decimal, half_words, ordinal

log = logging.getLogger(__name__)

_NB = r"(?<![\w.,/:])"  # a number starts here: not inside a word, decimal or time
_DASH = r"\s*[-\u2013\u2014]\s*"
MONTHS = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
_MONTH = "|".join(MONTHS)


# --- years and dates ----------------------------------------------------------------------

_YEAR_WORD = r"(?P<word>гг?\.|гг?(?![\w])|год(?:а|у|ом|е|ы|ов|ам|ами|ах)?(?!\w))"
YEAR_RE = re.compile(
    _NB + r"(?P<y1>\d{4})(?:(?P<dash>" + _DASH + r")|\s+(?P<conj>по|до|и)\s+)?"
    r"(?P<y2>(?<=[\s\u2013\u2014-])\d{4})?\s?" + _YEAR_WORD,
    re.IGNORECASE,
)
# The case of "г." after a year, by the word before the year.
_YEAR_ABBR_CASE = {"в": LOCT, "во": LOCT, "к": DATV, "ко": DATV, "о": LOCT, "об": LOCT, "при": LOCT}


def _year_case(text: str, start: int) -> str:
    before = word_before(text, start)
    if before in _YEAR_ABBR_CASE:
        return _YEAR_ABBR_CASE[before]
    governed, default = governing(text, start)
    if governed:
        return governed[0]
    if before and is_pos(before, "NOUN"):
        return GENT  # "итоги 2023 г."
    return default


def year_words(match: re.Match[str]) -> str:
    """ "в 2024 году", "к 2030 г.", "с 2010 по 2015 год", "в 2015–2019 годах"."""
    text, word = match.string, match["word"].lower()
    last_start = match.start("y2") if match["y2"] else match.start("y1")
    if word.startswith("год"):
        case_forms = forms(word)
        governed, _ = governing(text, last_start)
        fitting = [f for f in case_forms if f.case in governed] or list(case_forms)
        case = fitting[0].case if fitting else NOMN
        noun = match["word"]
    else:
        plural = word.startswith("гг") or bool(match["y2"] and match["dash"])
        case = _year_case(text, match.start("y1") if match["dash"] else last_start)
        noun = inflect("год", case, "plur" if plural else "sing")
    if not match["y2"]:
        return f"{ordinal(int(match['y1']), case)} {noun}"
    first_case = case if match["dash"] else _year_case(text, match.start("y1"))
    joint = " " if match["dash"] else f" {match['conj']} "
    first = ordinal(int(match["y1"]), first_case)
    return f"{first}{joint}{ordinal(int(match['y2']), case)} {noun}"


DATE_RE = re.compile(
    _NB + r"(?P<d>[12]?\d|3[01])(?:-(?:го|е|ое|ого))?"
    r"(?:(?P<dash>"
    + _DASH
    + r")|\s+(?P<conj>и|по|до|на)\s+)?(?P<d2>(?<=[\s\u2013\u2014-])(?:[12]?\d|3[01]))?"
    r"(?:-(?:го|е|ое|ого))?\s+(?P<month>" + _MONTH + r")(?!\w)"
    r"(?:\s+(?P<year>\d{4})(?:\s?(?P<yw>г\.|г(?!\w)|года|год)(?!\w))?)?",
    re.IGNORECASE,
)
# After these a date is named, not dated: "сегодня пятое мая".
_NAMING = frozenset(
    ["сегодня", "завтра", "вчера", "послезавтра", "было", "будет", "наступило", "наступит", "это"]
)


# "Сегодня — 5 мая", "Завтра, 6 мая, выходной", "Сегодня у нас 5 мая": the day named.
_NAMING_BEFORE_RE = re.compile(
    r"(?i:сегодня|завтра|вчера|послезавтра)(?:\s*[,\u2014\u2013-])?(?:\s+у\s+нас)?\s*$"
)


def _day_case(text: str, start: int, holiday: bool) -> str:
    before = word_before(text, start)
    if before in _NAMING or _NAMING_BEFORE_RE.search(text[max(0, start - 30) : start]):
        return NOMN
    governed, _ = governing(text, start)
    if not governed:
        return GENT
    if holiday and governed[0] == GENT and before in ("с", "со"):
        return ABLT  # "поздравляю с 8 Марта"
    return ACCS if before in ("в", "во", "на", "по", "за", "про", "через") else governed[0]


_PREDICATE_DASH_RE = re.compile(r"\s+[\u2014\u2013-]\s")


def date_words(match: re.Match[str]) -> str:
    """ "к 1 сентября" -> "к первому сентября", "с 5 по 10 мая", "5–10 мая"."""
    text = match.string
    month = match["month"]
    holiday = month[0].isupper() and not match["year"]
    case = _day_case(text, match.start(), holiday)
    if _PREDICATE_DASH_RE.match(text, match.end()) and not word_before(text, match.start()):
        case = NOMN  # "1 мая — праздник весны": the date is named
    day = ordinal(int(match["d"]), case, "neut")
    if match["d2"]:
        if match["dash"]:
            words = f"{day} {ordinal(int(match['d2']), case, 'neut')}"
            if word_before(text, match.start()) not in ("с", "со"):
                first = ordinal(int(match["d"]), GENT, "neut")
                words = f"с {first} по {ordinal(int(match['d2']), ACCS, 'neut')}"
        else:
            second_case = {"по": ACCS, "на": ACCS, "до": GENT}.get(match["conj"], case)
            words = f"{day} {match['conj']} {ordinal(int(match['d2']), second_case, 'neut')}"
    else:
        words = day
    words += f" {month.lower() if holiday else month}"
    if match["year"]:
        words += f" {ordinal(int(match['year']), GENT)} года"
    return words


# --- quantities: units, money, magnitudes -------------------------------------------------

# A unit: how it is written, and its words as (dictionary form, part of speech) with None
# for a word that does not change ("километр в час").
Unit = tuple[tuple[str, str | None], ...]
_N, _A = "NOUN", "ADJF"
_UNITS: dict[str, Unit] = {
    "км/ч": (("километр", _N), ("в час", None)),
    "руб./кг": (("рубль", _N), ("за килограмм", None)),
    "₽/кг": (("рубль", _N), ("за килограмм", None)),
    "р./кг": (("рубль", _N), ("за килограмм", None)),
    "руб./мес.": (("рубль", _N), ("в месяц", None)),
    "₽/мес.": (("рубль", _N), ("в месяц", None)),
    "₽/мес": (("рубль", _N), ("в месяц", None)),
    "₽/ч": (("рубль", _N), ("в час", None)),
    "Мбит/с": (("мегабит", _N), ("в секунду", None)),
    "Гбит/с": (("гигабит", _N), ("в секунду", None)),
    "кбит/с": (("килобит", _N), ("в секунду", None)),
    "МБ/с": (("мегабайт", _N), ("в секунду", None)),
    "м/с": (("метр", _N), ("в секунду", None)),
    "км²": (("квадратный", _A), ("километр", _N)),
    "м²": (("квадратный", _A), ("метр", _N)),
    "м2": (("квадратный", _A), ("метр", _N)),
    "кв. м": (("квадратный", _A), ("метр", _N)),
    "кв.м": (("квадратный", _A), ("метр", _N)),
    "м³": (("кубический", _A), ("метр", _N)),
    "куб. м": (("кубический", _A), ("метр", _N)),
    "ст. л.": (("столовый", _A), ("ложка", _N)),
    "л. с.": (("лошадиный", _A), ("сила", _N)),
    "п. п.": (("процентный", _A), ("пункт", _N)),
    "п.п.": (("процентный", _A), ("пункт", _N)),
    "л.с.": (("лошадиный", _A), ("сила", _N)),
    "ч. л.": (("чайный", _A), ("ложка", _N)),
    "°C": (("градус", _N), ("Цельсия", None)),
    "° C": (("градус", _N), ("Цельсия", None)),
    "°С": (("градус", _N), ("Цельсия", None)),
    "°": (("градус", _N),),
    "%": (("процент", _N),),
    "₽": (("рубль", _N),),
    "руб.": (("рубль", _N),),
    "руб": (("рубль", _N),),
    "р.": (("рубль", _N),),
    "коп.": (("копейка", _N),),
    "коп": (("копейка", _N),),
    "$": (("доллар", _N),),
    "долл.": (("доллар", _N),),
    "€": (("евро", _N),),
    "£": (("фунт", _N),),
    "¥": (("иена", _N),),
    "км": (("километр", _N),),
    "м": (("метр", _N),),
    "см": (("сантиметр", _N),),
    "мм": (("миллиметр", _N),),
    "кг": (("килограмм", _N),),
    "г": (("грамм", _N),),
    "гр.": (("грамм", _N),),
    "мг": (("миллиграмм", _N),),
    "т": (("тонна", _N),),
    "л": (("литр", _N),),
    "мл": (("миллилитр", _N),),
    "ч": (("час", _N),),
    "мин": (("минута", _N),),
    "сек": (("секунда", _N),),
    "мс": (("миллисекунда", _N),),
    "ккал": (("килокалория", _N),),
    "кал": (("калория", _N),),
    "ГБ": (("гигабайт", _N),),
    "Гб": (("гигабайт", _N),),
    "МБ": (("мегабайт", _N),),
    "Мб": (("мегабайт", _N),),
    "КБ": (("килобайт", _N),),
    "Кб": (("килобайт", _N),),
    "ТБ": (("терабайт", _N),),
    "Тб": (("терабайт", _N),),
    "ГГц": (("гигагерц", _N),),
    "МГц": (("мегагерц", _N),),
    "Гц": (("герц", _N),),
    "кВт": (("киловатт", _N),),
    "Вт": (("ватт", _N),),
    "мАч": (("миллиампер-час", _N),),
    "Мп": (("мегапиксель", _N),),
    "МП": (("мегапиксель", _N),),
    "шт.": (("штука", _N),),
    "шт": (("штука", _N),),
    "чел.": (("человек", _N),),
    "экз.": (("экземпляр", _N),),
    "га": (("гектар", _N),),
}
# Counted forms Russians use instead of the dictionary's genitive plural ("16 гигабайт").
_COUNTED_PLURAL = {
    "гигабайтов": "гигабайт",
    "мегабайтов": "мегабайт",
    "килобайтов": "килобайт",
    "терабайтов": "терабайт",
    "ваттов": "ватт",
    "киловаттов": "киловатт",
    "герцев": "герц",
    "гигагерцев": "гигагерц",
    "мегагерцев": "мегагерц",
    "человеков": "человек",
    "мегабитов": "мегабит",
    "гигабитов": "гигабит",
    "килобитов": "килобит",
}
_MAGNITUDES = {"тыс": "тысяча", "млн": "миллион", "млрд": "миллиард", "трлн": "триллион"}
_UNIT_ALT = "|".join(
    # A unit in letters ends the word; its abbreviation's period is part of it ("5 ч. утра").
    re.escape(unit) + (r"(?![\w.]*\w)\.?" if unit[-1].isalpha() else "")
    for unit in sorted(_UNITS, key=len, reverse=True)
)
UNIT_ALT = _UNIT_ALT
_AMOUNT = r"(?P<sign>(?<![\w,)])(?<![\w,)]\.)[-+\u2212])?(?P<amount>\d+(?:[.,]\d+)?)"
_MAGNITUDE = r"(?:(?P<mag>тыс|млн|млрд|трлн)(?:\.|(?!\w)))"
QUANTITY_RE = re.compile(
    r"(?<![\w,])(?<!\d\.)"
    + _AMOUNT
    + r"(?:\s?"
    + _MAGNITUDE
    + r")?(?:\s?(?P<unit>"
    + _UNIT_ALT
    + "))?"
)
SIGN_FIRST_RE = re.compile(
    r"(?P<unit>[$€£¥₽])\s?" + r"(?P<amount>\d+(?:[.,]\d+)?)(?:\s?" + _MAGNITUDE + r")?"
)


# Units that "с" (from) starts a scale of: money, shares, temperature.
_FROM_UNITS = frozenset({"рубль", "копейка", "доллар", "евро", "фунт", "иена", "процент", "градус"})
_RANGE_END_RE = re.compile(r"(?:\s+\S+){0,3}?\s+(?:до|по)\s")


def unit_words(written: str, case: str, number: str) -> str:
    """A unit as written ("ч. л.") in ``case`` and ``number``; "" if it is not one."""
    unit = _UNITS.get(written) or _UNITS.get(written[:-1])
    return _inflect_unit(unit, case, number) if unit else ""


# The hundredth of a currency, said after it when a price has two decimals.
_SMALL_CHANGE = {"рубль": "копейка", "доллар": "цент", "евро": "цент"}


def quantity_of(value: int, case: str, unit: Unit) -> str:
    """A whole ``value`` of ``unit`` in ``case``: "двадцать один рубль"."""
    noun_case, count = counted_form(value, case)
    few = noun_case == GENT and count == "sing"
    words = cardinal(value, case, gender_of(_unit_head(unit)))
    return f"{words} {_inflect_unit(unit, noun_case, count, few)}"


def _inflect_unit(unit: Unit, case: str, number: str, few: bool = False) -> str:
    """The unit's words in ``case`` and ``number``; its adjective agrees with its noun,
    after 2-4 in the plural: genitive for a masculine noun ("два квадратных метра"),
    nominative for a feminine one ("две столовые ложки")."""
    gender = gender_of(_unit_head(unit))
    words = []
    for lemma, pos in unit:
        if pos is None:
            words.append(lemma)
            continue
        adjective_number = "plur" if pos == _A and few else number
        adjective_case = NOMN if pos == _A and few and gender == "femn" else case
        word = inflect(lemma, adjective_case, adjective_number, pos=pos, gender=gender)
        if number == "plur" and case == GENT:
            word = _COUNTED_PLURAL.get(word, word)
        words.append(word)
    return " ".join(words)


def _unit_head(unit: Unit) -> str:
    return next(lemma for lemma, pos in unit if pos == _N)


def _counted(
    amount: str, case: str, lemma_gender: str, *, half: bool
) -> tuple[str, str, str, bool]:
    """An amount said in ``case``, the (case, number) of the noun it counts, and whether
    an adjective before that noun goes to the plural ("два квадратных метра")."""
    whole, _, frac = amount.replace(",", ".").partition(".")
    if not frac:
        value = int(whole)
        noun_case, count = counted_form(value, case)
        few = noun_case == GENT and count == "sing"
        return cardinal(value, case, lemma_gender), noun_case, count, few
    if half and frac == "5":
        words = half_words(int(whole), case, lemma_gender)
        if case in (NOMN, ACCS):
            return words, GENT, "sing", True
        return words, case, "plur", False
    return decimal(whole, frac, case), GENT, "sing", False


def quantity_words(match: re.Match[str]) -> str:
    """ "5 тыс. руб." -> "пять тысяч рублей", "-5 °C" -> "минус пять градусов Цельсия",
    "1,5 млрд" -> "полтора миллиарда", "на 2,5%" -> "на две целых пять десятых процента"."""
    groups = match.groupdict()
    magnitude = _MAGNITUDES.get((groups.get("mag") or "").lower())
    written = groups.get("unit") or ""
    unit = _UNITS.get(written) or _UNITS.get(written[:-1]) if written else None
    if magnitude is None and unit is None:
        return match[0]
    ctx = context(match.string, match.start(), match.end())
    case = case_of(ctx)
    before = word_before(match.string, match.start())
    with_what = not magnitude and _unit_head(unit) not in _FROM_UNITS  # type: ignore[arg-type]
    if before in ("с", "со") and with_what and not _RANGE_END_RE.match(match.string[match.end() :]):
        case = ABLT  # "с 100 г сахара" is "with"; "с 10 тыс. рублей", "с 3% до 5%" "from"
    if before in ("в", "во") and re.match(r"\s+от", match.string[match.end() :]):
        case = LOCT  # "в 2 км от дома", "в 5 минутах отсюда": where, not how far
    counted_lemma = magnitude or _unit_head(unit)  # type: ignore[arg-type]
    gender = gender_of(counted_lemma)
    half = magnitude is not None or (unit is not None and groups["unit"] != "%")
    amount = groups["amount"]
    if not magnitude and unit and half and not amount.replace(",", ".").startswith("1."):
        half = False  # "полтора литра", but "2,5 кг" is said in full
    cents = _SMALL_CHANGE.get(counted_lemma)
    whole, _, frac = amount.replace(",", ".").partition(".")
    if cents and not magnitude and len(frac) == 2:
        # "45,90 руб." is said in rubles and kopecks: "сорок пять рублей девяносто копеек".
        big = quantity_of(int(whole), case, ((counted_lemma, _N),))
        small = quantity_of(int(frac), case, ((cents, _N),))
        return f"{big} {small}" if int(frac) else big
    words, noun_case, count, few = _counted(amount, case, gender, half=half)
    parts = [words]
    if magnitude:
        parts.append(_inflect_unit(((magnitude, _N),), noun_case, count))
        if unit:
            parts.append(_inflect_unit(unit, GENT, "plur"))
    else:
        parts.append(_inflect_unit(unit, noun_case, count, few))  # type: ignore[arg-type]
    sign = groups.get("sign")
    if sign:
        parts.insert(0, "плюс" if sign == "+" else "минус")
    return " ".join(parts)
