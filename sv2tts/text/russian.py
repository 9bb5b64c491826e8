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


# Numbers, abbreviations and acronyms live in their own modules (ru_expand, ru_numbers,
# ru_abbreviations); importable from here as before.
from sv2tts.text.ru_expand import expand_numbers_ru, expand_russian  # noqa: E402

__all__ = [
    "CYRILLIC_RE",
    "CYRILLIC_WORD_RE",
    "expand_numbers_ru",
    "expand_russian",
    "respell",
    "transliterate_russian",
    "transliterate_word",
]
