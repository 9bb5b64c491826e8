"""Cleaners: named text normalisations a checkpoint declares (``"cleaners": [...]``).

Each cleaner takes one sentence and returns the text its model reads; a front end runs its
cleaners in the declared order.

- ``english_cleaners``: for the English-trained public checkpoint (default symbol set).
  Each sentence is read in the language of most of its letters: an English sentence by
  :func:`normalize_english`; a Russian one has its numbers and abbreviations expanded in
  Russian and is then transliterated for English phonetics (:func:`russian_for_english`).
- ``russian_cleaners``: for a Russian-trained checkpoint: Russian numbers and abbreviations
  expanded, lower case, Cyrillic kept, whitespace collapsed.
- ``transliteration_cleaners``: any script to lower-case ASCII (anyascii), nothing expanded.
- ``basic_cleaners``: lower case and collapsed whitespace only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Literal

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
from sv2tts.text.symbols import TextFrontendError

log = logging.getLogger(__name__)

Cleaner = Callable[[str], str]
Language = Literal["en", "ru"]

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


def russian_for_english(text: str) -> str:
    """A Russian sentence as the English-trained model reads it closest to Russian."""
    text = normalize_punctuation(text)
    text = drop_emoji(text)
    text = expand_russian(text).lower()
    text = anyascii(transliterate_russian(text)).lower()
    text = text.replace("&", " and ").replace("+", " plus ")
    return tidy_spacing(NOT_DEFAULT_SYMBOL_RE.sub(" ", text))


def english_cleaners(text: str) -> str:
    if sentence_language(text) == "ru":
        return russian_for_english(text)
    return normalize_english(text)


def russian_cleaners(text: str) -> str:
    text = drop_emoji(normalize_punctuation(text))
    return collapse_whitespace(expand_russian(text).lower())


def transliteration_cleaners(text: str) -> str:
    return collapse_whitespace(anyascii(drop_emoji(text)).lower())


def basic_cleaners(text: str) -> str:
    return collapse_whitespace(text.lower())


CLEANERS: Mapping[str, Cleaner] = MappingProxyType(
    {
        "english_cleaners": english_cleaners,
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
