"""The words around a number in Russian text: the word that governs its case, and the
counted noun after it (read through pymorphy3, see :mod:`sv2tts.text.ru_morph`)."""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

from sv2tts.text.ru_morph import (
    ACCS,
    LOCT,
    NOMN,
    Form,
    asks_accusative,
    forms,
    governed_cases,
    is_known,
    is_pos,
    lemma_of,
)

log = logging.getLogger(__name__)

_WORD_BEFORE_RE = re.compile(r"([А-Яа-яЁёA-Za-z]+(?:-[А-Яа-яЁё]+)?)[ \t]*$")
_WORD_AFTER_RE = re.compile(r"^[ \t]*([А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)?)(?![\w.]*\d)")
# Words that stand between a number and the word governing it without changing its case:
# "около почти 40", "прошло уже 2 часа", "купи ещё 3 штуки", "и 2 ручки".
_TRANSPARENT = frozenset(
    {
        "почти", "примерно", "приблизительно", "ровно", "уже", "всего", "лишь", "только",
        "ещё", "еще", "целых", "аж", "где-то", "минус", "плюс",
        # a dative pronoun between a verb and its object: "перевела тебе 1500"
        "мне", "тебе", "ему", "ей", "нам", "вам", "им",
    }
)  # fmt: skip
# After a conjunction the number shares the case of the one before it: "купи 1 тетрадь и
# 2 ручки". The verb is looked for back through that conjunct's nouns and numbers only.
_CONJUNCTIONS = frozenset({"и", "или", "либо", "а"})


# Words after a number that it does not count: "в 7 вечера" (the hour), "2 плюс 2".
_NOT_COUNTED = frozenset({"утра", "вечера", "ночи", "плюс", "минус"})
# Nouns that name a place in a sequence, counted by ordinals ("в 21 веке", "в 1 классе").
RANKED_NOUNS = frozenset(
    {
        "век", "класс", "этаж", "курс", "квартал", "раунд", "тур", "место", "номер", "линия",
        "подъезд", "корпус", "вагон", "ряд", "палата", "кабинет", "аудитория", "школа",
        "глава", "урок", "пункт", "статья", "страница", "сезон", "серия", "эпизод", "уровень",
        "созыв", "съезд", "тысячелетие", "столетие", "гимназия", "лицей", "платформа",
        "путь", "выпуск", "том", "часть", "параграф", "микрорайон", "дом", "участок",
        "чтение", "этап", "круг", "очередь", "половина", "группа", "категория", "степень",
        "семестр", "полугодие", "смена", "разряд", "ступень", "отделение",
    }
)  # fmt: skip


# Nouns a number after them names ("дом 12", "автобус 47", "глава 3"): it is then a
# nominative cardinal whatever follows.
LABEL_NOUNS = RANKED_NOUNS | {
    "номер", "автобус", "маршрут", "рейс", "поезд", "задание", "вопрос", "билет", "вариант",
    "приказ", "указ", "закон", "дело", "код", "индекс", "порт", "версия", "модель", "серия",
    "трамвай", "троллейбус", "приложение", "рисунок", "таблица", "пример", "упражнение",
}  # fmt: skip


class Context(NamedTuple):
    """What the words around a number say about its case."""

    governed: tuple[str, ...]  # the cases the governing word allows, most likely first
    default_case: str  # when nothing governs: nominative, or accusative after a verb
    nouns: tuple[Form, ...]  # the readings of the counted noun after the number
    noun: str  # that noun as written ("" when none)

    @property
    def ranked(self) -> bool:
        return bool(self.noun) and lemma_of(self.noun) in RANKED_NOUNS


def word_before(text: str, start: int) -> str:
    """The word right before ``start`` (only spaces between), lower case; "" if none."""
    match = _WORD_BEFORE_RE.search(text[max(0, start - 40) : start])
    return match[1].lower() if match else ""


def governing(text: str, start: int) -> tuple[tuple[str, ...], str]:
    """The cases governed by the word before ``start`` (looking through adverbs like
    "почти" and conjunctions), and the default case when none is."""
    for _ in range(3):
        word = word_before(text, start)
        if not word:
            return (), NOMN
        cases = governed_cases(word)
        if cases:
            return cases, NOMN
        if word in _CONJUNCTIONS:
            return (), _verb_case_before(text, start_of_word_before(text, start))
        if word not in _TRANSPARENT:
            return (), ACCS if asks_accusative(word) else NOMN
        start = start_of_word_before(text, start)
    return (), NOMN


def _verb_case_before(text: str, start: int) -> str:
    for token in reversed(_TOKEN_RE.findall(text[max(0, start - 80) : start])[-6:]):
        if token[0].isdigit():
            continue
        if asks_accusative(token):
            return ACCS
        if not is_pos(token, "NOUN", "NUMR", "ADJF", "PRTF"):
            break
    return NOMN


_TOKEN_RE = re.compile(r"[\w-]+")


def start_of_word_before(text: str, start: int) -> int:
    offset = max(0, start - 40)
    match = _WORD_BEFORE_RE.search(text[offset:start])
    return offset + match.start() if match else start


def words_after(text: str, end: int, count: int = 3) -> list[tuple[str, int]]:
    """Up to ``count`` Cyrillic words after ``end`` with only spaces between, each with
    where it ends."""
    out: list[tuple[str, int]] = []
    while len(out) < count:
        match = _WORD_AFTER_RE.match(text[end : end + 60])
        if not match:
            break
        end += match.end()
        out.append((match[1], end))
    return out


def counted_noun(text: str, end: int) -> tuple[tuple[Form, ...], str]:
    """The readings of the noun counted by a number ending at ``end``: the next word if it
    is a noun, or the first noun after up to two adjectives ("2 больших дома")."""
    for word, _ in words_after(text, end):
        if word.lower() in _NOT_COUNTED:
            break  # "в 7 вечера": the hour, not seven evenings
        nouns = forms(word)
        if nouns and not is_pos(word, "ADJF", "PRTF", "NUMR"):
            # A word the dictionary only guesses at ("ккал") says nothing about agreement.
            return (nouns, word) if is_known(word) else ((), "")
        if not is_pos(word, "ADJF", "PRTF"):
            break
    return (), ""


def context(text: str, start: int, end: int) -> Context:
    governed, default = governing(text, start)
    nouns, noun = counted_noun(text, end)
    return Context(governed, default, nouns, noun)


def case_of(ctx: Context, place: bool = False) -> str:
    """The one case a number without a counted noun takes: the governing word's first
    (or, with ``place``, the prepositional where it allows it), else the default."""
    if not ctx.governed:
        return ctx.default_case
    if place and LOCT in ctx.governed:
        return LOCT
    return ctx.governed[0]
