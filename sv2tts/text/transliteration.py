"""Stressed Russian in the spelling an English-trained model reads closest to Russian.

Contract: ``transliterate_stressed(text)`` takes lower-case text whose Russian words carry
the marks of :mod:`sv2tts.text.stress` (U+0301 after the stressed vowel, ё restored) and
returns it with every Cyrillic word in Latin letters and no marks; everything else is left
as it is. It is the stressed counterpart of :func:`sv2tts.text.russian.transliterate_russian`
(which knows no stress), and it reads the way Russians speak, which spelling hides:

- unstressed о is said [ɐ]/[ə] ("молоко" [məlɐˈko]): written "a";
- unstressed е and я after a soft consonant are said [ɪ] ("язык" [jɪˈzɨk], "пятно"
  [pʲɪtˈno]): written "i" ("yi" where they begin with [j]); a word's last я stays "ya";
- unstressed а after ч, щ is said [ɪ] ("часы" [tɕɪˈsɨ]): "i";
- ё is always stressed: "yo", or "o" after ж, ш, ч, щ, which are never followed by [j];
- a word the stresser left without a mark: a monosyllable is a clitic, unstressed ("кто-то"),
  a longer word one the stresser does not know, read by the unstressed rules;
- the rest (consonants, ы, щ, soft signs, у, ю, и, the respellings "что" -> "што",
  "-ого" -> "-ово", "-ться" -> "-ца") as ``transliterate_russian`` does;
- last, a word whose spelling is an English word said otherwise ("to" [tuː] for "то") is
  respelt so that an English reader says the Russian word (``ENGLISH_WORDS``).

The README (the text front end, "Russian for the English model") has the rules as a table.
"""

from __future__ import annotations

import logging

from sv2tts.text.russian import (
    _SIGNS,
    _VOWELS,
    _transliterate_letter,
    respell,
    transliterate_word,
)
from sv2tts.text.stress import MARKED_WORD_RE, STRESS_MARK

log = logging.getLogger(__name__)

# Spellings the rules give that English readers know as other words: "to" and "do" end in
# [uː] in English, "net" has no [nʲ], a lone "a" is the article [ə], "son" and "ton" are
# said [sʌn], [tʌn].
ENGLISH_WORDS = {
    "to": "toe",
    "do": "doe",
    "net": "nyet",
    "a": "ah",
    "son": "sohn",
    "ton": "tohn",
}


def stressed_vowel(word: str) -> int | None:
    """The ordinal (0 = first) among ``word``'s vowels of its stressed one, or None.

    A mark decides; without one, ё (always stressed) does."""
    vowels = 0
    found_yo = None
    for i, char in enumerate(word):
        if char in _VOWELS:
            if i + 1 < len(word) and word[i + 1] == STRESS_MARK:
                return vowels
            if char == "ё" and found_yo is None:
                found_yo = vowels
            vowels += 1
    return found_yo


def _vowel_positions(word: str) -> list[int]:
    return [i for i, char in enumerate(word) if char in _VOWELS]


def _unstressed_vowel(word: str, i: int) -> str | None:
    """The spelling of the unstressed vowel ``word[i]`` where reduction changes it, else
    None (the unstressed rules' spelling stands)."""
    char = word[i]
    prev = word[i - 1] if i else ""
    final = i + 1 == len(word)
    glide = not prev or prev in _VOWELS or prev in _SIGNS
    if char == "о":
        return "a"
    if char == "е":
        if glide:
            return "ye" if final else "yi"
        return "i"
    if char == "я":
        if final:
            return None
        return "yi" if glide else "i"
    if char == "а" and prev in ("ч", "щ") and not final:
        return "i"
    return None


def transliterate_stressed_word(word: str, *, clitic_if_unmarked: bool = True) -> str:
    """One lower-case Cyrillic word, stress-marked, in the English-phonetics spelling.

    ``clitic_if_unmarked``: an unmarked one-vowel word is unstressed (the stresser ran and
    left it so); otherwise it is the stressed one of its one vowel."""
    stress = stressed_vowel(word)
    bare = respell(word.replace(STRESS_MARK, ""))
    vowels = _vowel_positions(bare)
    if stress is None:
        if len(vowels) > 1:
            return _english_word(transliterate_word(bare))
        if not clitic_if_unmarked:
            stress = 0
    stressed_at = vowels[stress] if stress is not None and stress < len(vowels) else -1
    out = ""
    for i, char in enumerate(bare):
        spelled = None
        if char in _VOWELS and i != stressed_at:
            spelled = _unstressed_vowel(bare, i)
        out += spelled if spelled is not None else _transliterate_letter(bare, i, out)
    return _english_word(out)


def _english_word(spelled: str) -> str:
    return ENGLISH_WORDS.get(spelled, spelled)


def transliterate_stressed(text: str) -> str:
    """Every Cyrillic word of ``text`` (lower case, stress-marked) transliterated by the
    stress rules; marks left anywhere else are dropped."""
    spelled = MARKED_WORD_RE.sub(lambda m: transliterate_stressed_word(m[0]), text)
    return spelled.replace(STRESS_MARK, "")


__all__ = [
    "ENGLISH_WORDS",
    "stressed_vowel",
    "transliterate_stressed",
    "transliterate_stressed_word",
]
