"""Cleaners: named text normalisations a checkpoint declares (``"cleaners": [...]``).

Each cleaner takes one sentence, and optionally a stresser (:mod:`sv2tts.text.stress`, which
the engine injects and the bot does not), and returns the text its model reads; a front end
runs its cleaners in the declared order. Without a stresser, or where it gives None, a
cleaner falls back to its rules for unstressed text.

- ``english_cleaners``: for the English-trained public checkpoint (default symbol set).
  Each sentence is read in the language of most of its letters: an English sentence by
  :func:`normalize_english`; a Russian one has its numbers and abbreviations expanded in
  Russian, stressed, and is then transliterated for English phonetics
  (:func:`russian_for_english`; the stress rules are :mod:`sv2tts.text.transliteration`).
- ``russian_stressed_cleaners``: for a Russian-trained checkpoint with the ``"russian"``
  symbol set: numbers and abbreviations expanded, stressed, lower case, "+" before each
  stressed vowel ("молок+о"), Latin letters respelt in Cyrillic, anything else the set
  lacks made a space (:func:`russian_words`, :func:`stressed_cyrillic`).
- ``russian_cleaners``: for a Russian-trained checkpoint: Russian numbers and abbreviations
  expanded, lower case, Cyrillic kept, whitespace collapsed, no stress.
- ``transliteration_cleaners``: any script to lower-case ASCII (anyascii), nothing expanded.
- ``basic_cleaners``: lower case and collapsed whitespace only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, Protocol

from anyascii import anyascii

from sv2tts.text.english import (
    NOT_DEFAULT_SYMBOL_RE,
    collapse_whitespace,
    drop_emoji,
    normalize_english,
    normalize_punctuation,
    tidy_spacing,
)
from sv2tts.text.russian import CYRILLIC_RE, expand_russian, transliterate_russian
from sv2tts.text.stress import (
    STRESS_MARK,
    Stresser,
    plus_marks,
    with_writers_stress,
    without_stress,
    writers_stress,
)
from sv2tts.text.symbols import RUSSIAN_SYMBOLS, TextFrontendError
from sv2tts.text.transliteration import transliterate_stressed

log = logging.getLogger(__name__)

Language = Literal["en", "ru"]


class Cleaner(Protocol):
    def __call__(self, text: str, stresser: Stresser | None = None) -> str: ...


_LATIN_RE = re.compile(r"[A-Za-z]")
_LETTER_WORD_RE = re.compile(r"[^\W\d_]+")
# Prepositions and conjunctions: a sentence they join is built in Russian.
_RUSSIAN_GLUE = frozenset(
    {
        "в", "во", "на", "с", "со", "к", "ко", "по", "за", "из", "от", "до", "для", "о", "об",
        "при", "про", "под", "над", "без", "через", "и", "или", "но", "а", "что", "чтобы",
        "как", "если", "когда", "потому", "где",
    }
)  # fmt: skip


class UnknownCleanerError(TextFrontendError):
    """A checkpoint declared a cleaner this engine does not have."""

    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(CLEANERS))
        super().__init__(f"unknown text cleaner {name!r} (known cleaners: {known})")
        self.name = name


def sentence_language(text: str) -> Language:
    """ "ru" when the sentence is Russian, else "en".

    A sentence is Russian when Cyrillic letters are at least as many as Latin ones, or when
    its grammar is Russian though its words are mostly Latin: it begins with a Cyrillic word,
    or a Russian preposition or conjunction joins its words ("Запусти docker compose up -d
    в 10:30"). The Latin words then stay Latin, read as English words inside the Russian
    sentence. An English sentence that quotes a Russian word stays English ("Say привет to
    3 friends."), its numbers read in English."""
    cyrillic = len(CYRILLIC_RE.findall(text))
    if cyrillic == 0:
        return "en"
    if cyrillic >= len(_LATIN_RE.findall(text)):
        return "ru"
    words = _LETTER_WORD_RE.findall(text)
    if words and CYRILLIC_RE.match(words[0]):
        return "ru"
    return "ru" if any(word.lower() in _RUSSIAN_GLUE for word in words) else "en"


def russian_words(text: str, stresser: Stresser | None = None) -> tuple[str, bool]:
    """A Russian sentence as the words that will be said, in Cyrillic, case kept: numbers
    and abbreviations expanded, then stressed (ё restored, STRESS_MARK after the stressed
    vowel) when ``stresser`` can; and whether it was stressed. A word the writer stressed
    themselves ("за́мок", with U+0301) keeps their stress."""
    writers = writers_stress(text)
    text = expand_russian(drop_emoji(normalize_punctuation(without_stress(text))))
    stressed = stresser(text) if stresser is not None else None
    if stressed is None:
        return text, False
    return with_writers_stress(stressed, writers), True


def russian_for_english(text: str, stresser: Stresser | None = None) -> str:
    """A Russian sentence as the English-trained model reads it closest to Russian: by the
    stress rules (sv2tts.text.transliteration) where it could be stressed, else by the
    unstressed ones (sv2tts.text.russian)."""
    words, stressed = russian_words(text, stresser)
    words = words.lower()
    text = transliterate_stressed(words) if stressed else transliterate_russian(words)
    text = anyascii(text).lower()
    text = text.replace("&", " and ").replace("+", " plus ")
    return tidy_spacing(NOT_DEFAULT_SYMBOL_RE.sub(" ", text))


# Latin letters in Cyrillic, as a Russian reader would say an English word spelled so:
# digraphs first, then single letters; "c" before e, i, y is [s].
_LATIN_DIGRAPHS = (
    ("sch", "ш"),
    ("sh", "ш"),
    ("ch", "ч"),
    ("zh", "ж"),
    ("kh", "х"),
    ("th", "т"),
    ("ph", "ф"),
    ("ck", "к"),
    ("oo", "у"),
    ("ee", "и"),
    ("ya", "я"),
    ("yu", "ю"),
    ("yo", "ё"),
    ("ce", "се"),
    ("ci", "си"),
    ("cy", "си"),
    ("qu", "кв"),
)
_LATIN_LETTERS = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz",
        [
            "а",
            "б",
            "к",
            "д",
            "е",
            "ф",
            "г",
            "х",
            "и",
            "дж",
            "к",
            "л",
            "м",
            "н",
            "о",
            "п",
            "к",
            "р",
            "с",
            "т",
            "у",
            "в",
            "в",
            "кс",
            "и",
            "з",
        ],
        strict=True,
    )
)
_LATIN_RUN_RE = re.compile(r"[a-z]+")


def latin_in_cyrillic(word: str) -> str:
    """A lower-case Latin word respelt in Russian letters, letter by letter ("docker" ->
    "докер"): rough, for the few Latin words a Russian model meets."""
    out = ""
    i = 0
    while i < len(word):
        for latin, cyrillic in _LATIN_DIGRAPHS:
            if word.startswith(latin, i):
                out += cyrillic
                i += len(latin)
                break
        else:
            out += _LATIN_LETTERS[word[i]]
            i += 1
    return out


_NOT_RUSSIAN_SYMBOL_RE = re.compile(
    "[^" + re.escape("".join(RUSSIAN_SYMBOLS.symbols[2:]).replace("-", "")) + r"\-]"
)


def stressed_cyrillic(words: str) -> str:
    """Stress-marked Russian words (``russian_words``) as the "russian" symbol set spells
    them: lower case, "+" before each stressed vowel, Latin respelt, nothing else."""
    text = anyascii_latin(words.lower().replace("+", " плюс ").replace("&", " и "))
    text = plus_marks(_LATIN_RUN_RE.sub(lambda m: latin_in_cyrillic(m[0]), text))
    return tidy_spacing(_NOT_RUSSIAN_SYMBOL_RE.sub(" ", text))


def anyascii_latin(text: str) -> str:
    """Letters of other Latin-script languages ("café") as ASCII; Cyrillic and the stress
    mark kept."""
    return "".join(
        char
        if CYRILLIC_RE.match(char) or char == STRESS_MARK or char.isascii()
        else anyascii(char).lower()
        for char in text
    )


def english_cleaners(text: str, stresser: Stresser | None = None) -> str:
    if sentence_language(text) == "ru":
        return russian_for_english(text, stresser)
    return normalize_english(text)


def russian_stressed_cleaners(text: str, stresser: Stresser | None = None) -> str:
    return stressed_cyrillic(russian_words(text, stresser)[0])


def russian_cleaners(text: str, stresser: Stresser | None = None) -> str:
    text = drop_emoji(normalize_punctuation(text))
    return collapse_whitespace(expand_russian(text).lower())


def transliteration_cleaners(text: str, stresser: Stresser | None = None) -> str:
    return collapse_whitespace(anyascii(drop_emoji(text)).lower())


def basic_cleaners(text: str, stresser: Stresser | None = None) -> str:
    return collapse_whitespace(text.lower())


CLEANERS: Mapping[str, Cleaner] = MappingProxyType(
    {
        "english_cleaners": english_cleaners,
        "russian_stressed_cleaners": russian_stressed_cleaners,
        "russian_cleaners": russian_cleaners,
        "transliteration_cleaners": transliteration_cleaners,
        "basic_cleaners": basic_cleaners,
    }
)


def get_cleaner(name: str) -> Cleaner:
    """The cleaner called ``name``; :class:`UnknownCleanerError` naming it if there is none."""
    try:
        return CLEANERS[name]
    except KeyError:
        raise UnknownCleanerError(name) from None
