"""Russian morphology for the front end: what a word is (its case, number, gender, animacy),
which case a preposition or verb asks of the number after it, and a noun's form in a case.

Built on pymorphy3 with the OpenCorpora dictionary (``pymorphy3-dicts-ru``): torch-free, so
the bot may use it. The analyser is loaded once, on first use, and every parse is cached:
the bot normalises every message, and the same few hundred words recur.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from pymorphy3 import MorphAnalyzer

log = logging.getLogger(__name__)

# pymorphy3's case names, in the order the front end prefers them when nothing decides.
NOMN, GENT, DATV, ACCS, ABLT, LOCT = "nomn", "gent", "datv", "accs", "ablt", "loct"
CASES = (NOMN, GENT, DATV, ACCS, ABLT, LOCT)
# num2words' names for the same cases.
N2W_CASE = {NOMN: "n", GENT: "g", DATV: "d", ACCS: "a", ABLT: "i", LOCT: "p"}

# The cases a preposition (or a comparative, or a word like "равно") governs, most likely
# first for a number after it: "с 5 до 10" is genitive, "с 3 помощниками" instrumental.
_GOVERNED: dict[str, tuple[str, ...]] = {}
for _words, _cases in (
    ("в во на", (ACCS, LOCT)),
    ("о об обо", (LOCT, ACCS)),
    ("при", (LOCT,)),
    ("к ко", (DATV,)),
    ("по", (ACCS, DATV, LOCT)),
    ("с со", (GENT, ABLT, ACCS)),
    ("за", (ACCS, ABLT)),
    ("под подо", (ACCS, ABLT)),
    ("над перед между", (ABLT,)),
    ("через про сквозь", (ACCS,)),
    ("равно равна равен равны равняется согласно благодаря вопреки навстречу", (DATV,)),
    (
        "от до из у без для после около кроме вокруг среди против вместо возле мимо "
        "из-за из-под более менее свыше больше меньше порядка выше ниже старше младше "
        "дороже дешевле длиннее короче вплоть течение размере количестве возрасте "
        "пределах районе протяжении ходе сумме объёме объеме уровне отметке",
        (GENT,),
    ),
):
    for _word in _words.split():
        _GOVERNED[_word] = _cases


class Form(NamedTuple):
    """One reading of a noun or adjective: "задаче" is (loct, sing, femn, False) and more."""

    case: str
    number: str  # "sing" or "plur"
    gender: str | None  # "masc", "femn", "neut"; None for plurals and words without one
    animate: bool


@functools.cache
def analyzer() -> MorphAnalyzer:
    """The one MorphAnalyzer of this process (loading the dictionary takes ~50 ms)."""
    import pymorphy3

    log.debug("loading the pymorphy3 Russian dictionary")
    return pymorphy3.MorphAnalyzer(lang="ru")


@functools.lru_cache(maxsize=8192)
def parses(word: str) -> tuple:
    return tuple(analyzer().parse(word.lower()))


def _case_of(tag: object) -> str | None:
    case = getattr(tag, "case", None)
    if case in ("gen2", "gen1"):
        return GENT
    if case in ("loc2", "loc1"):
        return LOCT
    if case == "acc2":
        return ACCS
    return case if case in CASES else None


@functools.lru_cache(maxsize=8192)
def forms(word: str, pos: tuple[str, ...] = ("NOUN",)) -> tuple[Form, ...]:
    """The readings of ``word`` as one of the parts of speech ``pos`` (probable ones only)."""
    found: list[Form] = []
    for parse in parses(word):
        tag = parse.tag
        if tag.POS not in pos or parse.score < 0.001:
            continue
        case = _case_of(tag)
        if case is None:
            continue
        form = Form(case, tag.number or "sing", tag.gender, tag.animacy == "anim")
        if "Fixd" in tag:  # indeclinable ("евро", "кофе"): every case, both numbers
            found.extend(
                Form(c, n, tag.gender, form.animate) for c in CASES for n in ("sing", "plur")
            )
        elif form not in found:
            found.append(form)
    return tuple(found)


def is_pos(word: str, *pos: str) -> bool:
    """Whether the most likely reading of ``word`` is one of the parts of speech ``pos``."""
    found = parses(word)
    return bool(found) and found[0].tag.POS in pos


def has_tag(word: str, grammeme: str) -> bool:
    """Whether any probable reading of ``word`` carries ``grammeme`` (e.g. "Name")."""
    return any(grammeme in p.tag and p.score >= 0.01 for p in parses(word))


def is_known(word: str) -> bool:
    return analyzer().word_is_known(word.lower())


def governed_cases(word: str) -> tuple[str, ...]:
    """The cases ``word`` (a preposition, comparative, ...) asks of a number after it."""
    return _GOVERNED.get(word.lower(), ())


def asks_accusative(word: str) -> bool:
    """A transitive verb with an object after it ("купи", "сделал"), not the neuter past of a
    verb whose subject is the number ("прошло 1000 лет", "было 5 человек")."""
    for parse in parses(word)[:1]:
        tag = parse.tag
        if tag.POS in ("VERB", "INFN") and tag.transitivity == "tran":
            return not (tag.tense == "past" and tag.gender == "neut")
    return False


_SECOND_LOCATIVE = frozenset({"год"})


def lemma_of(word: str) -> str:
    """The dictionary form of the most likely reading of ``word``."""
    found = parses(word)
    return found[0].normal_form if found else word.lower()


@functools.lru_cache(maxsize=4096)
def inflect(
    lemma: str, case: str, number: str = "sing", pos: str = "NOUN", gender: str | None = None
) -> str:
    """``lemma`` (a dictionary form) in ``case`` and ``number`` (an adjective in ``gender``
    too); the lemma if it cannot be."""
    candidates = [p for p in parses(lemma) if pos == p.tag.POS and p.normal_form == lemma.lower()]
    # The dictionary form's own parse first: "грамм" is also a counted genitive plural.
    candidates.sort(key=lambda p: not ("nomn" in p.tag and "sing" in p.tag))
    for parse in candidates:
        wanted = {case, number}
        if pos == "ADJF" and number == "sing":
            wanted.add(gender or parse.tag.gender or "masc")
        # "в году", not "в годе" (but "в веке", not the idiom's "на веку").
        if case == LOCT and number == "sing" and lemma in _SECOND_LOCATIVE:
            inflected = parse.inflect({"loc2", number})
            if inflected is not None:
                return inflected.word
        inflected = parse.inflect(wanted)
        if inflected is not None:
            return inflected.word
    return lemma


def gender_of(lemma: str) -> str:
    """The gender of a noun given in its dictionary form ("masc" when unknown)."""
    for parse in parses(lemma):
        if parse.tag.POS == "NOUN" and parse.tag.gender:
            return str(parse.tag.gender)
    return "masc"
