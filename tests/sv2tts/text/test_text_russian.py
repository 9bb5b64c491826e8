"""Russian: numbers and abbreviations in Russian words, then the English-phonetics spelling."""

from __future__ import annotations

import pytest

from sv2tts.text import DEFAULT_SYMBOLS, default_text_frontend, get_cleaner, sentence_language
from sv2tts.text.russian import expand_russian, transliterate_word


def for_english_model(text: str) -> str:
    return default_text_frontend().clean(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21 год", "двадцать один год"),
        ("1 неделя и 2 недели", "одна неделя и две недели"),  # gender from the noun
        ("1 место", "одно место"),
        ("11 минут", "одиннадцать минут"),
        ("12345", "двенадцать тысяч триста сорок пять"),
        ("1 000 000 рублей", "миллион рублей"),  # digits grouped with spaces; "один" unsaid
        ("-5", "минус пять"),
        ("3,14 и 0.5", "три целых четырнадцать сотых и ноль целых пять десятых"),
        ("3,14159", "три запятая один четыре один пять девять"),
        ("в 10:30 и 7:05", "в десять тридцать и семь ноль пять"),
        ("№ 5", "номер пять"),
    ],
)
def test_russian_cardinals_decimals_and_times(text: str, expected: str) -> None:
    assert expand_russian(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21-й век", "двадцать первый век"),
        ("3-я глава", "третья глава"),
        ("1-го числа", "первого числа"),
        ("в 90-х", "в девяностых"),
        ("в 5-м классе", "в пятом классе"),
        ("5-м номером", "пятым номером"),
        ("в 1999 году", "в тысяча девятьсот девяносто девятом году"),
        ("к 2030 году", "к две тысячи тридцатому году"),
        ("2024 год", "две тысячи двадцать четвёртый год"),
        ("в 2024 г.", "в две тысячи двадцать четвёртом году."),  # the period ended the text too
        (
            "1 января 2024 г.",
            "первого января две тысячи двадцать четвёртого года.",
        ),
        ("родился 5 мая 1980", "родился пятого мая тысяча девятьсот восьмидесятого года"),
        ("Сегодня 5 мая", "Сегодня пятое мая"),
    ],
)
def test_russian_ordinals_dates_and_years(text: str, expected: str) -> None:
    assert expand_russian(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100 руб. 50 коп.", "сто рублей пятьдесят копеек."),
        ("1 руб. 1 коп.", "один рубль одна копейка."),
        ("22 ₽", "двадцать два рубля"),
        ("₽5", "пять рублей"),
        ("5 тыс. руб.", "пять тысяч рублей."),
        ("1,5 млн руб.", "полтора миллиона рублей."),
        ("3 млрд", "три миллиарда"),
        ("$5 и 3 €", "пять долларов и три евро"),
        ("50%", "пятьдесят процентов"),
        ("2,5 %", "две целых пять десятых процента"),
        ("21 %", "двадцать один процент"),
        ("5 км за 2 ч", "пять километров за два часа"),
        ("-5 °C", "минус пять градусов Цельсия"),
    ],
)
def test_russian_money_units_and_percent(text: str, expected: str) -> None:
    assert expand_russian(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("т.е. так", "то есть так"),
        ("т. к. поздно", "так как поздно"),
        ("яблоки и т.д.", "яблоки и так далее."),  # ends the text: the period ends it too
        ("и т.п. и др.", "и тому подобное и другие."),
        ("г. Москва", "город Москва"),
        ("ул. Ленина, д. 5, кв. 12", "улица Ленина, дом пять, квартира двенадцать"),
        ("см. напр. рис. 3", "смотри например рисунок три"),
        ("проф. Иванов", "профессор Иванов"),
        ("тыс. руб.", "тысяч рублей."),
    ],
)
def test_russian_abbreviations(text: str, expected: str) -> None:
    assert expand_russian(text) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("привет", "privet"),
        ("хорошо", "horosho"),  # х before a vowel: "h"
        ("хлеб", "khleb"),  # х before a consonant: "kh" (a bare h would be silent)
        ("их", "ikh"),
        ("схема", "skhema"),  # not "shema"
        ("щука", "shooka"),  # щ is [ɕː] today
        ("жёлтый", "zholtiy"),  # ё after ж is [o]
        ("ёлка", "yolka"),
        ("юла", "yula"),
        ("парашют", "parashoot"),
        ("яблоко", "yabloko"),
        ("семья", "semya"),  # soft sign dropped, its [j] kept by the vowel
        ("объявление", "obyavleniye"),
        ("соловьи", "solovyi"),
        ("екатерина", "yekaterina"),  # е at the start: "ye"
        ("поле", "poleh"),  # final е: "eh", not a silent "e"
        ("чай", "chai"),
        ("мой", "moy"),
        ("мы", "mee"),  # a lone final "y"/"i" reads [aɪ] in English
        ("и", "ee"),
        ("был", "byl"),
        ("работы", "raboti"),
        ("гид", "ghid"),  # "gh" keeps g hard before i and e
        ("учиться", "oochitsa"),  # -ться said [ца]
        ("его", "yevo"),  # -его said [ево]
        ("красного", "krasnovo"),
        ("много", "mnogo"),  # keeps its [г]
        ("что", "shto"),
        ("сегодня", "sevodnya"),
        ("Москва", "moskva"),
    ],
)
def test_transliteration_for_english_phonetics(word: str, expected: str) -> None:
    assert transliterate_word(word) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21 год", "dvadtsat odin god"),
        ("Привет, как дела?", "privet, kak dela?"),
        ("Здравствуйте! Что вы делаете?", "zdrastvooyteh! shto vee delayeteh?"),
        (
            "Это стоит 100 руб., т.е. недорого.",
            "eto stoit sto roobley, to yest nedorogo.",
        ),
        ("Мне 21 год, а ей 1 неделя.", "mneh dvadtsat odin god, a yey odna nedelya."),
        ("Я люблю Python 3 и C++.", "ya lyublyu python tree ee c plus plus."),
        ("Москва — столица России.", "moskva -- stolitsa rossii."),
        ("«Ёлки-палки», сказал он.", '"yolki-palki", skazal on.'),
    ],
)
def test_russian_sentences_for_the_english_model(text: str, expected: str) -> None:
    assert for_english_model(text) == expected


def test_russian_output_uses_only_default_symbols() -> None:
    text = (
        "Съешь же ещё этих мягких французских булок, да выпей чаю. ЭЙ, Юля! "
        "Ѣ і ї є ґ ў — 1 234,5 ₽ № 7 50% 1-го мая 2024 г. 😀"
    )
    cleaned = for_english_model(text)
    assert cleaned
    assert all(char in DEFAULT_SYMBOLS for char in cleaned), cleaned


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Привет, как дела?", "ru"),
        ("Hello there.", "en"),
        ("Say привет to 3 friends.", "en"),  # one Russian word in English
        ("Я люблю Python.", "ru"),
        ("12345", "en"),
        ("Запусти docker compose up -d в 10:30", "ru"),  # more Latin, Russian grammar
        ("Open the file и прочитай", "ru"),  # a Russian conjunction joins it
        ("Say привет to my friends and family.", "en"),
    ],
)
def test_sentence_language_is_the_script_of_most_letters(text: str, language: str) -> None:
    assert sentence_language(text) == language


def test_a_russian_word_in_english_keeps_english_numbers() -> None:
    assert for_english_model("Say привет to 3 friends.") == "say privet to three friends."


def test_russian_cleaners_keep_cyrillic_for_a_russian_model() -> None:
    cleaner = get_cleaner("russian_cleaners")
    assert cleaner("  Мне 21 год,   т.е. МНОГО! ") == "мне двадцать один год, то есть много!"


def test_latin_words_in_a_russian_sentence_stay_latin_and_its_numbers_russian() -> None:
    assert expand_russian("Запусти docker compose up -d в 10:30") == (
        "Запусти docker compose up -d в десять тридцать"
    )
    assert for_english_model("Запусти docker compose up -d в 10:30") == (
        "zapoosti docker compose up -d v desyat tridtsat"
    )
