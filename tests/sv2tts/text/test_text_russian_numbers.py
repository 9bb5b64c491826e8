"""Russian numbers in the case, gender and kind the words around them ask for, acronyms
by the syllable rule, and abbreviations in their case: one test per rule of the grammar
(the corpus test measures them together)."""

from __future__ import annotations

import pytest

from sv2tts.text.ru_abbreviations import said_as_word, spell
from sv2tts.text.ru_morph import forms
from sv2tts.text.ru_numbers import choose, compound_stem, decimal, fraction, say
from sv2tts.text.russian import expand_russian


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("с 5 до 10 человек", "с пяти до десяти человек"),  # the three examples
        ("к 1 сентября", "к первому сентября"),
        ("о 21 задаче", "о двадцати одной задаче"),
        ("1 тетрадь", "одна тетрадь"),  # a feminine noun in a soft sign
        ("купи 1 тетрадь", "купи одну тетрадь"),  # a transitive verb: accusative
        ("пригласили 2 гостей", "пригласили двух гостей"),  # animate accusative
        ("достался 2 победителям", "достался двум победителям"),  # the noun's dative
        ("не хватает 21 рубля", "не хватает двадцати одного рубля"),
        ("в 2 больших коробках", "в двух больших коробках"),  # through an adjective
        ("с 3 помощниками", "с тремя помощниками"),
        ("прошло 1000 лет", "прошло тысяча лет"),  # the number is the subject
        ("сделал 1000 шагов", "сделал тысячу шагов"),
        ("купи 1 тетрадь и 2 ручки", "купи одну тетрадь и две ручки"),
        ("в семье 3 детей", "в семье трое детей"),  # a collective numeral
    ],
)
def test_cardinals_agree_with_preposition_verb_and_noun(text: str, expected: str) -> None:
    assert expand_russian(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("на 3 путь", "на третий путь"),  # no cardinal agrees with "путь": an ordinal
        ("у 2 подъезда", "у второго подъезда"),
        ("в 21 веке", "в двадцать первом веке"),  # a ranked noun takes the ordinal
        ("в 1 классе", "в первом классе"),
        ("на 7 вечера", "на семь вечера"),  # the hour, not a count of evenings
        ("с 1 по 5 класс", "с первого по пятый класс"),
        ("ученики 5-11 классов", "ученики пятых одиннадцатых классов"),
    ],
)
def test_ordinals_where_the_noun_names_a_place_in_a_sequence(text: str, expected: str) -> None:
    assert expand_russian(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2-х", "двух"),
        ("до 5-ти лет", "до пяти лет"),
        ("10-ти", "десяти"),
        ("5-ю главу", "пятую главу"),
        ("5-ю способами", "пятью способами"),
        ("3-им лицом", "третьим лицом"),
        ("1-го числа", "первого числа"),
        ("1990-е", "тысяча девятьсот девяностые"),
        ("2-комнатная", "двухкомнатная"),
        ("2-х комнатную", "двухкомнатную"),
        ("50-летие", "пятидесятилетие"),
        ("100-процентный", "стопроцентный"),
    ],
)
def test_written_suffixes_and_compounds(text: str, expected: str) -> None:
    assert expand_russian(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("с 5 по 10 мая", "с пятого по десятое мая"),
        ("5–10 мая", "с пятого по десятое мая"),
        ("14 и 15 октября", "четырнадцатого и пятнадцатого октября"),
        ("01.09.2024", "первого сентября две тысячи двадцать четвёртого года"),
        ("с 8 Марта", "с восьмым марта"),
        ("1 мая — праздник", "первое мая — праздник"),
        ("в 2015–2019 годах", "в две тысячи пятнадцатом две тысячи девятнадцатом годах"),
        ("с 2010 по 2015 год", "с две тысячи десятого по две тысячи пятнадцатый год"),
        ("в 1999", "в тысяча девятьсот девяносто девятом"),
        ("к 19:30", "к девятнадцати тридцати"),
        ("на 19.00", "на девятнадцать ноль ноль"),
        ("в XX веке", "в двадцатом веке"),
        ("памятник Петру I", "памятник Петру Первому"),
        ("в XVI–XVII вв.", "в шестнадцатом семнадцатом веках."),
    ],
)
def test_dates_years_times_and_centuries(text: str, expected: str) -> None:
    assert expand_russian(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "+7 999 123-45-67",
            "плюс семь девятьсот девяносто девять сто двадцать три сорок пять шестьдесят семь",
        ),
        ("8 (800) 050-00-01", "восемь восемьсот ноль пятьдесят ноль ноль ноль один"),
        ("54 м²", "пятьдесят четыре квадратных метра"),
        ("2 ст. л. соли", "две столовые ложки соли"),
        ("1/2 ч. л. соли", "одна вторая чайной ложки соли"),
        ("90 км/ч", "девяносто километров в час"),
        ("при 100 °C", "при ста градусах Цельсия"),
        ("с 100 г сахара", "со ста граммами сахара"),
        ("в 2 км от дома", "в двух километрах от дома"),
        ("1,5 млрд рублей", "полтора миллиарда рублей"),
        ("в 1,5 раза", "в полтора раза"),
        ("равно 3,14", "равно трём целым четырнадцати сотым"),
        ("под 6%", "под шесть процентов"),
        ("16 ГБ", "шестнадцать гигабайт"),
        ("50/50", "пятьдесят на пятьдесят"),
        ("Фильм 18+", "Фильм восемнадцать плюс"),
        ("со счётом 3:2", "со счётом три два"),
    ],
)
def test_phones_units_money_fractions_and_scores(text: str, expected: str) -> None:
    assert expand_russian(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("у д. 12 парковка", "у дома двенадцать парковка"),  # a number naming the house
        ("с 1 200 до 990 рублей", "с тысячи двухсот до девятисот девяноста рублей"),
        ("с 2010 по 2015", "с две тысячи десятого по две тысячи пятнадцатый"),
        ("мы ехали 3-е суток", "мы ехали трое суток"),
        ("по 3 человека", "по три человека"),  # distributive: no animate accusative
        ("на 1 человека", "на одного человека"),
        ("тел. 123-45-67", "телефон сто двадцать три сорок пять шестьдесят семь"),
        ("рекорд 2:01:09", "рекорд два часа одна минута девять секунд"),
        ("ЗП 100к", "зэ пэ сто тысяч"),
        ("цена 45,90 руб", "цена сорок пять рублей девяносто копеек"),
        ("250 ккал", "двести пятьдесят килокалорий"),  # not an ordinal for a guessed word
        ("5 + 3 = 8", "пять плюс три равно восемь"),
        ("о 1 миллионе", "об одном миллионе"),
        ("с 2 ст. л. сахара", "с двумя столовыми ложками сахара"),
    ],
)
def test_labels_years_distributives_and_message_shorthand(text: str, expected: str) -> None:
    assert expand_russian(text) == expected


def test_number_words_in_every_case() -> None:
    assert decimal("2", "5", "accs") == "две целых пять десятых"
    assert decimal("1", "85") == "одна целая восемьдесят пять сотых"
    assert fraction(2, 3, "gent") == "двух третьих"
    assert fraction(1, 4, "accs") == "одну четвёртую"
    assert [compound_stem(n) for n in (1, 2, 40, 90, 100, 25)] == [
        "одно", "двух", "сорока", "девяносто", "сто", "двадцатипяти",
    ]  # fmt: skip


def test_choose_prefers_the_reading_the_noun_agrees_with() -> None:
    loct = choose(21, forms("задаче"), ("loct", "accs"))
    assert say(21, loct) == "двадцати одной"
    ordinal = choose(3, forms("путь"), ("accs", "loct"))
    assert ordinal.ordinal and say(3, ordinal) == "третий"


@pytest.mark.parametrize(
    ("acronym", "word"),
    [("вуз", True), ("нато", True), ("егэ", True), ("гост", True), ("тасс", True),
     ("мкад", True), ("мгу", False), ("фсб", False), ("жкх", False), ("аэс", False),
     ("гибдд", False), ("цска", False), ("рф", False), ("ооо", False)],
)  # fmt: skip
def test_acronyms_said_as_words_by_the_syllable_rule(acronym: str, word: bool) -> None:
    assert said_as_word(acronym) is word


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("в МГУ", "в эм гэ у"),
        ("из США", "из сэ шэ а"),
        ("в ВУЗе", "в вузе"),
        ("МНОГО!", "много!"),  # shouting, not an acronym
        ("в г. Казани", "в городе Казани"),
        ("в Московской обл.", "в Московской области."),
        ("с проф. Ивановым", "с профессором Ивановым"),
        ("на Невском пр-те", "на Невском проспекте"),
        ("у ст. м. Сокол", "у станции метро Сокол"),
    ],
)
def test_acronyms_and_abbreviations_in_their_case(text: str, expected: str) -> None:
    assert expand_russian(text) == expected


def test_letters_are_named_as_in_the_alphabet() -> None:
    assert spell("жкх") == "жэ ка ха"
    assert spell("мчс") == "эм че эс"


def test_no_digit_survives_anything() -> None:
    text = "12:61 1.2.3.4 7/0 99999999999999999999 -0,0001 № 3-й+5 IV 1е5 x2 2²"
    assert not any(char.isdigit() for char in expand_russian(text))
