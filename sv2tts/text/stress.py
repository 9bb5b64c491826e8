"""Word stress and ё for Russian text: the optional step a text front end takes.

Contract::

    stresser = shared_stresser()             # process-wide, loads nothing yet
    stresser("Молоко на столе, еще хорошо.") # -> "Молоко́ на́ столе́, ещё́ хорошо́."
                                             #    or None where no stress model is installed

A stresser takes one sentence (Russian words, numbers already spelled out) and returns the
same text with ё restored and U+0301 (COMBINING ACUTE ACCENT, the mark Russian dictionaries
print) after the stressed vowel of each word it knows, every other character unchanged; or
None when it cannot stress at all, and the front end then falls back to its rules for
unstressed text. A word it left unmarked is one it has no stress for: a clitic ("кто-то"'s
"то"), a Latin word, or a word it does not know.

The model is silero-stress (MIT, its weights inside the wheel): it needs torch, so this
module imports torch only inside the loader, and the bot (which never stresses: it only
counts symbols) never loads it. The loader runs once per process, on the first sentence.

Internal form, for the cleaners: U+0301 after the stressed vowel (``STRESS_MARK``).
``plus_marks`` turns it into the form Russian TTS corpora and silero write, "+" before the
stressed vowel ("молок+о"), which the Russian symbol set spells.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from functools import cache
from typing import Protocol

log = logging.getLogger(__name__)

STRESS_MARK = "\u0301"
PLUS = "+"
VOWELS = frozenset("аеёиоуыэюяАЕЁИОУЫЭЮЯ")
# A Cyrillic word with the stress marks inside it.
MARKED_WORD_RE = re.compile(rf"[\u0400-\u04ff][\u0400-\u04ff{STRESS_MARK}]*")

Accentor = Callable[[str], str]


class Stresser(Protocol):
    def __call__(self, text: str) -> str | None:
        """``text`` with ё restored and STRESS_MARK after stressed vowels; None: no model."""
        ...


def marks_from_plus(original: str, accented: str) -> str | None:
    """``original`` with the stress of ``accented`` (silero's output: ``original`` with "+"
    put before stressed vowels and е made ё where it belongs) as STRESS_MARK after the vowel.

    The two are walked side by side, so that a "+" that was in ``original`` ("C++") stays a
    character and is never taken for a mark; a "+" before a consonant is dropped. None when
    ``accented`` is not ``original`` with such changes only (a model that rewrote something
    else is not trusted)."""
    out: list[str] = []
    i = j = 0
    stress_next = False
    while j < len(accented):
        char = accented[j]
        source = original[i] if i < len(original) else ""
        if char == source or (char in "ёЁ" and source == ("е" if char == "ё" else "Е")):
            out.append(char)
            if stress_next and char in VOWELS:
                out.append(STRESS_MARK)
            stress_next = False
            i += 1
        elif char == PLUS:
            # A "+" before anything but a vowel is a mark the model misplaced (it does so
            # after some symbols glued to a word: "#моло+ко"); dropped, the word unmarked.
            stress_next = j + 1 < len(accented) and accented[j + 1] in VOWELS
        else:
            return None
        j += 1
    return "".join(out) if i == len(original) else None


def plus_marks(text: str) -> str:
    """STRESS_MARK after a vowel written as "+" before it: "молоко́" -> "молок+о"."""
    out: list[str] = []
    for char in text:
        if char == STRESS_MARK:
            if out and out[-1] in VOWELS:
                out.insert(len(out) - 1, PLUS)
            continue
        out.append(char)
    return "".join(out)


def without_stress(text: str) -> str:
    """``text`` with every STRESS_MARK removed (ё kept)."""
    return text.replace(STRESS_MARK, "")


def _key(word: str) -> str:
    return without_stress(word).lower().replace("ё", "е")


def writers_stress(text: str) -> dict[str, str]:
    """The words ``text``'s writer stressed themselves ("за́мок"), by their unmarked lower-case
    form (ё as е): the lower-case word as they marked it."""
    return {
        _key(word): word.lower() for word in MARKED_WORD_RE.findall(text) if STRESS_MARK in word
    }


def with_writers_stress(stressed: str, writers: dict[str, str]) -> str:
    """``stressed`` (a stresser's output) with the words in ``writers`` (``writers_stress``)
    marked as their writer marked them, each letter's case kept: the writer knows which
    "замок" they meant."""
    if not writers:
        return stressed

    def rewrite(match: re.Match[str]) -> str:
        word = match[0]
        wanted = writers.get(_key(word))
        if wanted is None:
            return word
        letters = iter(without_stress(word))
        return "".join(
            char if char == STRESS_MARK else (char.upper() if next(letters).isupper() else char)
            for char in wanted
        )

    return MARKED_WORD_RE.sub(rewrite, stressed)


# A word glued to a symbol before it: «молоко», "#молоко", "1молоко" (a hyphen is part of
# the word: "кто-то").
_GLUED_RE = re.compile(r"(?<=[^\s\u0400-\u04ff\-])(?=[\u0400-\u04ff])")


def spaced_words(text: str) -> tuple[str, list[int]]:
    """``text`` with a space between each Cyrillic word and a symbol glued before it, and the
    indices of those spaces in the result.

    silero-stress puts the mark of such a word one letter early («моло+ко»: it should be
    «молок+о»); apart from the symbol it marks the word right."""
    inserted: list[int] = []
    pieces: list[str] = []
    last = 0
    for match in _GLUED_RE.finditer(text):
        pieces.append(text[last : match.start()])
        inserted.append(match.start() + len(inserted))
        pieces.append(" ")
        last = match.start()
    pieces.append(text[last:])
    return "".join(pieces), inserted


def without_inserted(marked: str, inserted: list[int]) -> str:
    """``marked`` (a text with STRESS_MARKs added) without the characters that stood at
    ``inserted`` in the text before the marks were added."""
    drop = set(inserted)
    out: list[str] = []
    index = 0
    for char in marked:
        if char == STRESS_MARK:
            out.append(char)
            continue
        if index not in drop:
            out.append(char)
        index += 1
    return "".join(out)


def _load_silero_accentor() -> Accentor:
    """silero-stress's Russian accentor, torch's thread count and autograd mode as they were.

    Importing silero_stress calls ``torch.set_num_threads(1)`` for the whole process, which
    would slow every synthesis after it, and loading it switches autograd off, which would
    break a training process that stresses text; both are put back."""
    import torch

    threads = torch.get_num_threads()
    grad = torch.is_grad_enabled()
    try:
        from silero_stress import load_accentor

        accentor = load_accentor("ru")
    finally:
        torch.set_num_threads(threads)
        torch.set_grad_enabled(grad)
    if accentor is None:
        raise RuntimeError("silero-stress has no Russian accentor")
    return accentor


class SileroStresser:
    """Stress from silero-stress, loaded on the first sentence (thread-safe), once.

    Where the package or its model cannot be loaded, every call returns None (logged once),
    so speech goes on with the unstressed rules instead of failing."""

    def __init__(self, load: Callable[[], Accentor] = _load_silero_accentor) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._accentor: Accentor | None = None
        self._failed = False

    def _model(self) -> Accentor | None:
        with self._lock:
            if self._accentor is None and not self._failed:
                try:
                    self._accentor = self._load()
                    log.info("stress model loaded")
                except Exception as error:  # whatever failed, the answer is "no stress"
                    self._failed = True
                    log.warning("no stress model (%s): Russian is read without stress", error)
            return self._accentor

    def preload(self) -> bool:
        """Load the model now rather than on the first Russian sentence (a worker does this
        before it says it is ready, so no job pays the seconds it takes); True when loaded."""
        return self._model() is not None

    def __call__(self, text: str) -> str | None:
        accentor = self._model()
        if accentor is None:
            return None
        import torch

        spaced, inserted = spaced_words(text)
        # The accentor switches autograd off for the calling thread (set_grad_enabled(False)
        # inside its scripted code); no_grad puts the caller's mode back on the way out, so a
        # training process that stresses Russian text still gets gradients.
        with torch.no_grad():
            accented = accentor(spaced)
        marked = marks_from_plus(spaced, accented)
        if marked is None:
            log.warning("the stress model changed more than stress; sentence left unstressed")
            return None
        return without_inserted(marked, inserted)


@cache
def shared_stresser() -> SileroStresser:
    """The process's one SileroStresser (its model is loaded once, on first use)."""
    return SileroStresser()
