"""Russian text: numbers and abbreviations as Russian words, and a transliteration that an
English-trained model reads close to Russian.

The published synthesizer only knows English spelling, learnt from LibriSpeech. A generic
transliteration ("privet", "khorosho", "shchi", "ty") lets it read Russian as an English
reader would, with English vowel rules. The scheme here spells each Russian sound the way
English spelling makes that sound most reliably, without stress marks (which plain text
does not carry). Every choice is commented where it is made: see ``_transliterate_letter``.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import NamedTuple

from num2words import num2words

log = logging.getLogger(__name__)

CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
CYRILLIC_WORD_RE = re.compile(r"[\u0400-\u04ff]+")

_VOWELS = frozenset("аеёиоуыэюя")
_SIGNS = frozenset("ьъ")
# Ж, Ш, Ч, Щ are never followed by a [j] glide: "шёл" is [шол], "парашют" is [парашут].
_HUSHERS = frozenset("жшчщ")

# Letters that read the same in English spelling and Russian.
_PLAIN_LETTERS = {
    "а": "a",
    "б": "b",
    "в": "v",
    "д": "d",
    "з": "z",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "ф": "f",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    # Щ is a long soft [ɕː] in today's Russian; "shch" would make an English reader say a
    # [ʃtʃ] cluster nobody says, "sh" is the nearest English sound.
    "щ": "sh",
    # English has no [ʐ]; "zh" is how English texts spell it (Zhukov, Brezhnev).
    "ж": "zh",
    # "oo" is English spelling's reliable [u]; a bare "u" reads [ʌ] (cut) or [ju] (cute).
    "у": "oo",
    "э": "e",
    "ь": "",
    "ъ": "",
    # Other Cyrillic alphabets' letters, so that a Ukrainian or Belarusian word is not lost.
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "ґ": "g",
    "ў": "w",
}

# Whole words that Russians do not say as spelled (a few of the most frequent ones).
_RESPELLINGS = {
    "что": "што",
    "чтобы": "штобы",
    "ничто": "ништо",
    "конечно": "конешно",
    "скучно": "скушно",
    "сегодня": "севодня",
    "сегодняшний": "севодняшний",
    "пожалуйста": "пожалуста",
    "здравствуй": "здраствуй",
    "здравствуйте": "здраствуйте",
    "солнце": "сонце",
    "чувство": "чуство",
    "лестница": "лесница",
}
# Adjective and pronoun endings -ого/-его are said [ово]/[ево]; these words keep their [г].
_G_KEPT = frozenset(
    {"много", "немного", "строго", "нестрого", "дорого", "недорого", "убого", "ого", "итого"}
)
_REFLEXIVE_ENDING_RE = re.compile(r"ть?ся$")


def respell(word: str) -> str:
    """A lower-case Russian word respelt as it is said (still in Cyrillic)."""
    if word in _RESPELLINGS:
        return _RESPELLINGS[word]
    if word.endswith(("ого", "его")) and word not in _G_KEPT:
        word = word[:-2] + "во"
    # "-ться" and "-тся" are both said [ца].
    return _REFLEXIVE_ENDING_RE.sub("ца", word)


def _vowel_count(word: str) -> int:
    return sum(char in _VOWELS for char in word)


def _transliterate_letter(word: str, i: int, out: str) -> str:
    """The Latin spelling of ``word[i]``; ``out`` is what the word became up to it."""
    char = word[i]
    prev = word[i - 1] if i else ""
    nxt = word[i + 1] if i + 1 < len(word) else ""
    glide = not prev or prev in _VOWELS or prev in _SIGNS  # a [j] before the vowel
    final = not nxt
    if char == "е":
        if glide:
            return "ye"
        # A final "e" is silent in English ("pole" would lose a syllable); "eh" is said [ɛ].
        return "eh" if final else "e"
    if char == "ё":
        return "o" if prev in _HUSHERS else "yo"
    if char == "ю":
        return "oo" if prev in _HUSHERS else "yu"
    if char == "я":
        return "a" if prev in "чщ" and prev else "ya"
    if char in "иы":
        return _i_sound(word, char, prev, final, nxt)
    if char == "й":
        # "чай", "давай": English says "ai" at the end of a word or before a consonant as [aj].
        return "i" if prev == "а" and nxt not in _VOWELS else "y"
    if char == "х":
        # "h" is the nearest English sound to [x] and keeps "хорошо" from sounding like
        # "корошо"; but after s, z, k, c, t, p, g it would make a digraph (sh, th, ph...), and
        # a final or pre-consonant "h" is silent in English, so there "kh".
        if nxt in _VOWELS and out[-1:] not in ("s", "z", "k", "c", "t", "p", "g", "h"):
            return "h"
        return "kh"
    if char == "г":
        # "ge", "gi" read soft in English (gentle, giant); "gh" keeps the [g] hard.
        return "gh" if nxt in ("е", "и", "ы") else "g"
    return _PLAIN_LETTERS.get(char, char)


def _i_sound(word: str, char: str, prev: str, final: bool, nxt: str) -> str:
    if prev in _SIGNS:
        return "yi"  # "соловьи": the soft sign is a [j]
    if final and _vowel_count(word) == 1:
        # "и", "ни", "мы", "вы": a lone final "i"/"y" reads [aɪ] in English ("hi", "my").
        return "ee"
    if char == "ы" and not final and nxt != "й":
        # "y" between consonants reads [ɪ] (myth, gym): nearer [ɨ] than "i", and it keeps
        # "был" apart from "бил".
        return "y"
    return "i"


def transliterate_word(word: str) -> str:
    """One Cyrillic word in the English-phonetics spelling (lower case)."""
    word = respell(word.lower())
    out = ""
    for i in range(len(word)):
        out += _transliterate_letter(word, i, out)
    return out


def transliterate_russian(text: str) -> str:
    """Every Cyrillic word of ``text`` transliterated; everything else left as it is."""
    return CYRILLIC_WORD_RE.sub(lambda m: transliterate_word(m[0]), text)


# --- numbers ---------------------------------------------------------------------------


class Noun(NamedTuple):
    gender: str  # "m", "f" or "n": the gender the number before it takes
    one: str  # after 1, 21, 31 ...
    few: str  # after 2-4, 22-24 ... and after a fraction
    many: str  # after 0, 5-20, 25-30 ... and after a magnitude (тысяч, миллионов)


_THOUSAND = Noun("f", "тысяча", "тысячи", "тысяч")
_MAGNITUDES = {
    "тыс": _THOUSAND,
    "млн": Noun("m", "миллион", "миллиона", "миллионов"),
    "млрд": Noun("m", "миллиард", "миллиарда", "миллиардов"),
    "трлн": Noun("m", "триллион", "триллиона", "триллионов"),
}
_RUBLE = Noun("m", "рубль", "рубля", "рублей")
_UNITS = {
    "₽": _RUBLE,
    "руб": _RUBLE,
    "р": _RUBLE,
    "коп": Noun("f", "копейка", "копейки", "копеек"),
    "$": Noun("m", "доллар", "доллара", "долларов"),
    "долл": Noun("m", "доллар", "доллара", "долларов"),
    "€": Noun("n", "евро", "евро", "евро"),
    "£": Noun("m", "фунт", "фунта", "фунтов"),
    "%": Noun("m", "процент", "процента", "процентов"),
    "км": Noun("m", "километр", "километра", "километров"),
    "м": Noun("m", "метр", "метра", "метров"),
    "см": Noun("m", "сантиметр", "сантиметра", "сантиметров"),
    "мм": Noun("m", "миллиметр", "миллиметра", "миллиметров"),
    "кг": Noun("m", "килограмм", "килограмма", "килограммов"),
    "ч": Noun("m", "час", "часа", "часов"),
    "мин": Noun("f", "минута", "минуты", "минут"),
    "сек": Noun("f", "секунда", "секунды", "секунд"),
    "°C": Noun("m", "градус Цельсия", "градуса Цельсия", "градусов Цельсия"),
    "°": Noun("m", "градус", "градуса", "градусов"),
}
_AMOUNT = r"\d+(?:[.,]\d+)?"
_MAGNITUDE = r"(?:(?P<mag>тыс|млн|млрд|трлн)(?!\w)\.?)"
_UNIT = r"(?:(?P<unit>руб|коп|долл|км|см|мм|кг|мин|сек|м|ч|р)(?!\w)\.?|(?P<sign>[₽$€£%]|°\s?C|°))"
# Matches every number; a number with neither a magnitude nor a unit is left for later.
_QUANTITY_RE = re.compile(rf"(?<![\w.,])(?P<amount>{_AMOUNT})(?:\s?{_MAGNITUDE})?(?:\s?{_UNIT})?")
_SIGN_FIRST_RE = re.compile(rf"(?P<sign>[₽$€£])\s?(?P<amount>{_AMOUNT})(?:\s?{_MAGNITUDE})?")

_THOUSANDS_GROUPS_RE = re.compile(r"(?<![\d.,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d])")
_TIME_RE = re.compile(r"\b(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)\b")
_MONTHS = "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
_DATE_RE = re.compile(
    rf"(?P<before>\b\w+\s)?(?P<day>\b(?:[12]?\d|3[01]))\s(?P<month>{_MONTHS})\b"
    rf"(?:\s(?P<year>\d{{4}})\b(?!\s?(?:г|год)))?",
    re.IGNORECASE,
)
_YEAR_RE = re.compile(
    r"(?P<before>\b\w+\s)?(?P<year>\b\d{4})\s?(?P<word>г\.|год(?:а|у|ом)?\b)", re.IGNORECASE
)
# The case a year takes from its noun ("в 2024 году" is prepositional, "к 2024 году" dative).
_YEAR_WORD_CASES = {"год": ("n", "год"), "года": ("g", "года"), "годом": ("i", "годом")}
_ORDINAL_RE = re.compile(r"\b(?P<number>\d+)-(?P<suffix>[а-яё]{1,3})\b", re.IGNORECASE)
_PREPOSITIONS_OF_PLACE = frozenset({"в", "во", "на", "о", "об", "при"})
_DECIMAL_RE = re.compile(r"(?<![\d.,])(?P<whole>\d+)[.,](?P<fraction>\d+)(?![\d.,]\d)")
_NEGATIVE_RE = re.compile(r"(?<![\w-])-(?=\d)")
_NUMBER_SIGN_RE = re.compile(r"№\s?(?=\d)")
_INTEGER_RE = re.compile(r"\d+(?:\s+(?P<next>[а-яё]+))?", re.IGNORECASE)


def plural_form(number: int, noun: Noun) -> str:
    """The form of ``noun`` after a whole ``number`` (1 рубль, 2 рубля, 5 рублей)."""
    if number % 10 == 1 and number % 100 != 11:
        return noun.one
    if 2 <= number % 10 <= 4 and not 12 <= number % 100 <= 14:
        return noun.few
    return noun.many


# Longer numbers are read digit by digit (num2words stops at 10**36 anyway).
MAX_NUMBER_DIGITS = 15
_DIGIT_NAMES = ("ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")


def digits_ru(number: int) -> str:
    return " ".join(_DIGIT_NAMES[int(d)] for d in str(number))


def cardinal_ru(number: int, gender: str = "m", case: str = "n") -> str:
    if len(str(number)) > MAX_NUMBER_DIGITS:
        return digits_ru(number)
    return num2words(number, lang="ru", gender=gender, case=case)


def ordinal_ru(number: int, gender: str = "m", case: str = "n", plural: bool = False) -> str:
    if len(str(number)) > MAX_NUMBER_DIGITS:
        return digits_ru(number)
    return num2words(number, lang="ru", to="ordinal", gender=gender, case=case, plural=plural)


def decimal_ru(whole: str, fraction: str) -> str:
    """ "3,14" -> "три целых четырнадцать сотых"; long fractions digit by digit."""
    if len(fraction) > 3 or len(whole.lstrip("0")) > MAX_NUMBER_DIGITS:
        digits = " ".join(cardinal_ru(int(d)) for d in fraction)
        return f"{cardinal_ru(int(whole))} запятая {digits}"
    return num2words(Decimal(f"{int(whole)}.{fraction}"), lang="ru")


def amount_ru(amount: str, gender: str) -> tuple[str, int | None]:
    """An amount as words and, when it is whole, its value (for the noun's form)."""
    whole, _, fraction = amount.replace(",", ".").partition(".")
    if fraction:
        return decimal_ru(whole, fraction), None
    return cardinal_ru(int(whole), gender=gender), int(whole)


def quantity_ru(amount: str, magnitude: Noun | None, unit: Noun | None) -> str:
    """ "5 тыс. руб." -> "пять тысяч рублей"; "2,5 %" -> "две целых пять десятых процента"."""
    counted = magnitude or unit
    assert counted is not None
    words, value = amount_ru(amount, counted.gender)
    parts = [words, counted.few if value is None else plural_form(value, counted)]
    if magnitude and unit:
        parts.append(unit.many)  # "тысяч рублей", "миллиона долларов"
    return " ".join(parts)


def _unit_of(match: re.Match[str]) -> Noun | None:
    groups = match.groupdict()
    if groups.get("unit"):
        return _UNITS[groups["unit"].lower()]
    if groups.get("sign"):
        return _UNITS[re.sub(r"\s", "", groups["sign"])]
    return None


def _magnitude_of(match: re.Match[str]) -> Noun | None:
    magnitude = match.groupdict().get("mag")
    return _MAGNITUDES[magnitude.lower()] if magnitude else None


def _quantity_match_ru(match: re.Match[str]) -> str:
    magnitude, unit = _magnitude_of(match), _unit_of(match)
    if magnitude is None and unit is None:
        return match[0]
    return quantity_ru(match["amount"], magnitude, unit)


def _date_ru(match: re.Match[str]) -> str:
    before = match["before"] or ""
    # "5 мая" is said "пятого мая" ("on May 5th"), and "пятое мая" after "сегодня" etc.
    nominative = before.strip().lower() in {"сегодня", "завтра", "вчера", "было", "будет"}
    day = ordinal_ru(int(match["day"]), gender="n", case="n" if nominative else "g")
    words = f"{before}{day} {match['month']}"
    if match["year"]:
        words += f" {ordinal_ru(int(match['year']), case='g')} года"
    return words


def _year_ru(match: re.Match[str]) -> str:
    before = match["before"] or ""
    preposition = before.strip().lower()
    word = match["word"].lower()
    if word == "году":
        case = "d" if preposition in {"к", "ко", "по"} else "p"
        noun = "году"
    elif word == "г.":
        case, noun = ("p", "году") if preposition in {"в", "во"} else ("g", "года")
    else:
        case, noun = _YEAR_WORD_CASES[word]
    return f"{before}{ordinal_ru(int(match['year']), case=case)} {noun}"


# Ordinal suffixes ("21-й", "1-го", "90-х") and the form each asks for: (gender, case, plural).
_ORDINAL_SUFFIXES = {
    "й": ("m", "n", False),
    "ый": ("m", "n", False),
    "ий": ("m", "n", False),
    "ой": ("m", "n", False),
    "го": ("m", "g", False),
    "ого": ("m", "g", False),
    "его": ("m", "g", False),
    "му": ("m", "d", False),
    "ому": ("m", "d", False),
    "я": ("f", "n", False),
    "ая": ("f", "n", False),
    "ю": ("f", "a", False),
    "ую": ("f", "a", False),
    "е": ("n", "n", False),
    "ое": ("n", "n", False),
    "х": ("m", "g", True),
    "ых": ("m", "g", True),
    "ми": ("m", "i", True),
    "ыми": ("m", "i", True),
}


def _ordinal_with_suffix(match: re.Match[str]) -> str:
    suffix = match["suffix"].lower()
    number = int(match["number"])
    if suffix in ("м", "ым", "ом"):
        # "в 5-м классе" (prepositional) or "5-м номером" (instrumental): the word before tells.
        before = match.string[: match.start()].split()
        place = bool(before) and before[-1].lower() in _PREPOSITIONS_OF_PLACE
        return ordinal_ru(number, case="p" if place else "i")
    if suffix not in _ORDINAL_SUFFIXES:
        return match[0]
    gender, case, plural = _ORDINAL_SUFFIXES[suffix]
    return ordinal_ru(number, gender=gender, case=case, plural=plural)


def _gender_before(number: int, next_word: str | None) -> str:
    """The gender a cardinal takes from the noun after it, guessed from the noun's ending:
    "одна минута", "две недели", "одно место"; masculine otherwise ("двадцать один год")."""
    if not next_word or number % 100 in (11, 12):
        return "m"
    word = next_word.lower()
    if number % 10 == 1:
        if word.endswith(("а", "я")):
            return "f"
        if word.endswith(("о", "е")):
            return "n"
    if number % 10 == 2 and word.endswith(("ы", "и")):
        return "f"
    return "m"


def _integer_ru(match: re.Match[str]) -> str:
    digits = match[0].split()[0]
    next_word = match["next"]
    words = cardinal_ru(int(digits), gender=_gender_before(int(digits), next_word))
    return f"{words} {next_word}" if next_word else words


def _time_ru(match: re.Match[str]) -> str:
    hour, minute = int(match["hour"]), int(match["minute"])
    minutes = cardinal_ru(minute) if minute >= 10 else f"ноль {cardinal_ru(minute)}"
    return f"{cardinal_ru(hour)} {minutes}"


def expand_numbers_ru(text: str) -> str:
    """Numbers as Russian words: sums of money, units, percentages, dates, years, ordinals
    with suffixes, times, decimals and plain cardinals."""
    # "10 000" is one number in Russian typography (which groups digits with spaces); the
    # cost is that two numbers in a row like "5 100" are read as one.
    text = _THOUSANDS_GROUPS_RE.sub(lambda m: re.sub(r"\s", "", m[0]), text)
    text = _NUMBER_SIGN_RE.sub("номер ", text)
    text = _TIME_RE.sub(_time_ru, text)
    text = _NEGATIVE_RE.sub("минус ", text)
    text = _SIGN_FIRST_RE.sub(_quantity_match_ru, text)
    text = _QUANTITY_RE.sub(_quantity_match_ru, text)
    text = _DATE_RE.sub(_date_ru, text)
    text = _YEAR_RE.sub(_year_ru, text)
    text = _ORDINAL_RE.sub(_ordinal_with_suffix, text)
    text = _DECIMAL_RE.sub(lambda m: decimal_ru(m["whole"], m["fraction"]), text)
    return _INTEGER_RE.sub(_integer_ru, text)


# --- abbreviations ---------------------------------------------------------------------


def _compiled(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(pattern, re.IGNORECASE), words) for pattern, words in pairs)


# Abbreviations recognised by the number after them: expanded before numbers become words.
_ABBREVIATIONS_BEFORE_NUMBERS = _compiled(
    (
        (r"\bд\.(?=\s*\d)", "дом"),
        (r"\bкв\.(?=\s*\d)", "квартира"),
        (r"\bстр\.(?=\s*\d)", "страница"),
        (r"\bрис\.(?=\s*\d)", "рисунок"),
    )
)
_ABBREVIATIONS = _compiled(
    (
        (r"\bт\.\s?е\.", "то есть"),
        (r"\bт\.\s?к\.", "так как"),
        (r"\bт\.\s?д\.", "так далее"),
        (r"\bт\.\s?п\.", "тому подобное"),
        (r"\bт\.\s?н\.", "так называемый"),
        (r"\bт\.\s?ч\.", "том числе"),
        (r"\bт\.\s?о\.", "таким образом"),
        (r"\bн\.\s?э\.", "нашей эры"),
        (r"\bи\s+др\.", "и другие"),
        (r"\bи\s+пр\.", "и прочее"),
        (r"\bсм\.", "смотри"),
        (r"\bнапр\.", "например"),
        (r"\bг\.(?=\s*(?-i:[А-ЯЁ]))", "город"),
        (r"\bгг\.", "годы"),
        (r"\bг\.", "год"),
        (r"\bул\.", "улица"),
        (r"\bпросп\.", "проспект"),
        (r"\bпр-т\b", "проспект"),
        (r"\bпер\.", "переулок"),
        (r"\bстр\.", "страница"),
        (r"\bрис\.", "рисунок"),
        (r"\bим\.", "имени"),
        (r"\bсв\.", "святой"),
        (r"\bпроф\.", "профессор"),
        (r"\bакад\.", "академик"),
        (r"\bдоц\.", "доцент"),
        (r"\bзам\.", "заместитель"),
        (r"\bг-н\b", "господин"),
        (r"\bг-жа\b", "госпожа"),
        (r"\bруб\.", "рублей"),
        (r"\bкоп\.", "копеек"),
        (r"\bтыс\.", "тысяч"),
        (r"\bмлн\b\.?", "миллионов"),
        (r"\bмлрд\b\.?", "миллиардов"),
        (r"\bтрлн\b\.?", "триллионов"),
        (r"\bмин\.", "минут"),
        (r"\bсек\.", "секунд"),
    )
)


def expand_abbreviations_ru(
    text: str, abbreviations: tuple[tuple[re.Pattern[str], str], ...] = _ABBREVIATIONS
) -> str:
    """Common Russian abbreviations as words; one that ends the text keeps its period."""
    for pattern, words in abbreviations:
        text = pattern.sub(
            lambda m, words=words: words + "." if not m.string[m.end() :].strip() else words,
            text,
        )
    return text


def expand_russian(text: str) -> str:
    """Numbers and abbreviations of Russian text as Russian words (Cyrillic kept)."""
    text = expand_abbreviations_ru(text, _ABBREVIATIONS_BEFORE_NUMBERS)
    return expand_abbreviations_ru(expand_numbers_ru(text))
