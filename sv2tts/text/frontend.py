"""The text front end of a synthesizer checkpoint: its symbol set, its cleaners, its language,
and (injected by the engine, never by the bot) a stresser.

A front end with a stresser (:mod:`sv2tts.text.stress`) speaks Russian with stress and ё;
without one it cleans by the unstressed rules, which is all the bot needs to count symbols
and tell speakable text from the rest (stress changes no such answer: it only moves "+" and
vowel spellings). ``explain`` shows, sentence by sentence, the words that will be said and
the symbols the synthesizer receives (``python -m sv2tts text``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from sv2tts.text.cleaners import (
    Language,
    get_cleaner,
    russian_words,
    sentence_language,
)
from sv2tts.text.english import normalize_english
from sv2tts.text.sentences import DEFAULT_MAX_SENTENCE_CHARS, split_long, split_sentences
from sv2tts.text.stress import Stresser, plus_marks
from sv2tts.text.symbols import (
    DEFAULT_SYMBOLS,
    SYMBOL_SETS,
    SymbolSet,
    SymbolSetError,
    TextFrontendError,
    symbol_set_named,
)
from sv2tts.text.visible import strip_invisible, visible_text

log = logging.getLogger(__name__)

DEFAULT_CLEANERS = ("english_cleaners",)
# What a named symbol set is read with, and in which language its model was trained.
NAMED_FRONTENDS: MappingProxyType[str, tuple[tuple[str, ...], Language]] = MappingProxyType(
    {
        "english": (DEFAULT_CLEANERS, "en"),
        "russian": (("russian_stressed_cleaners",), "ru"),
    }
)
LANGUAGES = ("en", "ru")
# Sentences a front end must be able to encode for most of their characters; one of them
# failing means the cleaners write an alphabet the symbols do not have.
_PROBES = ("Hello world, this is a test.", "Привет, мир, это проверка.")
_MIN_ENCODABLE_SHARE = 0.9

TextProblem = Literal["empty", "too_long", "nothing_to_say"]

_NON_SPACE_RUN_RE = re.compile(r"\S+")


@dataclass(frozen=True)
class TextFrontend:
    """Text to symbol-index sequences for one synthesizer checkpoint."""

    symbols: SymbolSet = DEFAULT_SYMBOLS
    cleaners: tuple[str, ...] = DEFAULT_CLEANERS
    language: Language = "en"  # the language the model was trained on
    stresser: Stresser | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cleaners", tuple(self.cleaners))
        for name in self.cleaners:
            get_cleaner(name)
        if self.language not in LANGUAGES:
            raise TextFrontendError(
                f"language must be one of {', '.join(LANGUAGES)}, not {self.language!r}"
            )

    def with_stresser(self, stresser: Stresser | None) -> TextFrontend:
        """This front end, speaking Russian with ``stresser``'s stress (None: without)."""
        return dataclasses.replace(self, stresser=stresser)

    @property
    def num_symbols(self) -> int:
        """Rows the synthesizer's symbol embedding must have."""
        return len(self.symbols)

    @property
    def symbol_set_name(self) -> str | None:
        """The name of the registered set these symbols are (sv2tts.text.symbols), if any."""
        return next((name for name, s in SYMBOL_SETS.items() if s == self.symbols), None)

    def sidecar_config(self) -> dict[str, Any]:
        """The sidecar keys that declare this front end (for tools that write checkpoints)."""
        return {
            "language": self.language,
            "symbols": list(self.symbols.symbols),
            "cleaners": list(self.cleaners),
        }

    def clean(self, text: str) -> str:
        """``text`` after every cleaner, in order: what the model reads. Characters nobody
        sees (sv2tts.text.visible) go first, so that no cleaner has to know them."""
        return self._clean(text, self.stresser)

    def _clean(self, text: str, stresser: Stresser | None) -> str:
        text = strip_invisible(text)
        for name in self.cleaners:
            text = get_cleaner(name)(text, stresser)
        return text

    def encode(self, text: str) -> list[int]:
        """One sequence for all of ``text`` (cleaned), ending with EOS; no splitting."""
        return self.symbols.encode(self.clean(text))

    def is_speakable(self, text: str) -> bool:
        """Whether ``text`` has anything the model would say (emoji or punctuation alone, or
        only "words" longer than a sentence: no)."""
        cleaned = self._clean(self.without_unsayable_words(strip_invisible(text)), None)
        return any(self.symbols.is_speakable(char) for char in cleaned)

    def without_unsayable_words(
        self, text: str, max_chars: int = DEFAULT_MAX_SENTENCE_CHARS
    ) -> str:
        """``text`` without the runs of non-space characters that stay longer than
        ``max_chars`` once cleaned ("a" * 5000, a pasted hash glued into one word).

        Such a run is no word: the sentence splitter could only cut it blindly into pieces
        of ``max_chars`` and the model would babble each for as long as its decoder lets it.
        A long run that cleaning breaks up (200 digits become 200 words) is kept."""

        def keep_or_drop(match: re.Match[str]) -> str:
            run = match[0]
            if len(run) <= max_chars:
                return run
            cleaned = self._clean(run, None).split()
            return " " if any(len(word) > max_chars for word in cleaned) else run

        return _NON_SPACE_RUN_RE.sub(keep_or_drop, text)

    def sentences(self, text: str, max_chars: int = DEFAULT_MAX_SENTENCE_CHARS) -> list[str]:
        """The cleaned sentences of ``text``, each speakable and at most ``max_chars`` long.

        Text is split first (on its own punctuation, which cleaning may change), and each
        sentence is cleaned in its own language; a cleaned sentence that grew past the cap
        (numbers spelled out) is cut again. Invisible characters go before the split (a
        right-to-left mark after a full stop would hide the boundary), and so do "words"
        that no sentence could hold (``without_unsayable_words``)."""
        text = self.without_unsayable_words(strip_invisible(text), max_chars)
        pieces: list[str] = []
        for sentence in split_sentences(text, max_chars):
            for piece in split_long(self.clean(sentence), max_chars):
                if any(self.symbols.is_speakable(char) for char in piece):
                    pieces.append(piece)
        return pieces

    def to_sequences(
        self, text: str, max_chars: int = DEFAULT_MAX_SENTENCE_CHARS
    ) -> list[list[int]]:
        """One symbol-index sequence (EOS-terminated) per sentence; empty if nothing to say."""
        return [self.symbols.encode(piece) for piece in self.sentences(text, max_chars)]

    def explain(
        self, text: str, max_chars: int = DEFAULT_MAX_SENTENCE_CHARS
    ) -> list[SentenceReading]:
        """Each sentence of ``text`` as it will be said: ``sentences`` with what leads there.

        The words are those the cleaners read before writing symbols: for a Russian
        sentence the expanded Cyrillic words, stress as "+" before the vowel where known."""
        text = self.without_unsayable_words(strip_invisible(text), max_chars)
        readings: list[SentenceReading] = []
        for sentence in split_sentences(text, max_chars):
            language = sentence_language(sentence)
            if language == "ru" or self.language == "ru":
                words, stressed = russian_words(sentence, self.stresser)
                words = plus_marks(words) if stressed else words
            else:
                words, stressed = normalize_english(sentence), False
            pieces = [
                piece
                for piece in split_long(self.clean(sentence), max_chars)
                if any(self.symbols.is_speakable(char) for char in piece)
            ]
            readings.append(
                SentenceReading(
                    text=sentence,
                    language=language,
                    words=words,
                    stressed=stressed,
                    cleaned=pieces,
                    ids=[self.symbols.encode(piece) for piece in pieces],
                )
            )
        return readings


@dataclass(frozen=True)
class SentenceReading:
    """One sentence as the front end reads it (``TextFrontend.explain``)."""

    text: str  # the sentence as written
    language: Language  # the language it is read in
    words: str  # the words that will be said ("+" before stressed vowels where known)
    stressed: bool  # whether a stress model marked it
    cleaned: list[str]  # what the synthesizer reads, one string per piece (usually one)
    ids: list[list[int]]  # the symbol ids of each piece, EOS-terminated

    def as_dict(self, symbols: SymbolSet) -> dict[str, Any]:
        """JSON-ready, with each id's symbol beside it."""
        return {
            "text": self.text,
            "language": self.language,
            "words": self.words,
            "stressed": self.stressed,
            "cleaned": self.cleaned,
            "ids": self.ids,
            "symbols": [[symbols.symbols[i] for i in piece] for piece in self.ids],
        }

    def as_lines(self, number: int) -> list[str]:
        """For people (`python -m sv2tts text`): the sentence, its words, then per piece
        the symbols and ids."""
        stress = "stressed" if self.stressed else "no stress"
        lines = [f"{number}. {self.text}  [{self.language}, {stress}]", f"   words:   {self.words}"]
        for cleaned, ids in zip(self.cleaned, self.ids, strict=True):
            lines += [f"   symbols: {cleaned}", f"   ids:     {' '.join(map(str, ids))}"]
        return lines if self.cleaned else [*lines, "   symbols: (nothing to say)"]


def default_text_frontend() -> TextFrontend:
    """The public checkpoint's front end: 66 symbols, ``english_cleaners``."""
    return TextFrontend()


def frontend_named(name: str) -> TextFrontend:
    """The front end of a registered symbol set ("english", "russian"): its symbols, the
    cleaners and language that go with them (``NAMED_FRONTENDS``). SymbolSetError naming the
    known sets for any other name."""
    symbols = symbol_set_named(name)
    cleaners, language = NAMED_FRONTENDS[name]
    return TextFrontend(symbols, cleaners, language)


def sidecar_path(checkpoint: str | Path) -> Path:
    """Where a checkpoint's sidecar lives: beside it, same name, ``.json``."""
    return Path(checkpoint).with_suffix(".json")


def load_text_frontend(sidecar: str | Path | None) -> TextFrontend:
    """The front end a checkpoint's sidecar JSON declares.

    The sidecar may hold ``"symbols"`` (a list of one-character strings: index 0 the pad,
    index 1 the end of sequence, see :mod:`sv2tts.text.symbols`) and ``"cleaners"`` (cleaner
    names, run in order); its other keys (model dims) are not read here, except that a
    ``"num_chars"`` must equal the number of symbols. Without a sidecar, or without those
    keys, the default English front end. Symbols without cleaners get ``english_cleaners``
    when they are the default set and ``basic_cleaners`` otherwise.

    Raises :class:`TextFrontendError` (naming the problem and the file) for a sidecar that is
    not a JSON object, bad symbols, an unknown cleaner, or cleaners whose output the symbols
    cannot spell."""
    if sidecar is None or not Path(sidecar).is_file():
        log.info("no text sidecar (%s): default English front end", sidecar)
        return default_text_frontend()
    path = Path(sidecar)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TextFrontendError(f"{path}: cannot read sidecar JSON: {error}") from error
    if not isinstance(config, dict):
        raise TextFrontendError(f"{path}: sidecar must be a JSON object")
    try:
        frontend = frontend_from_config(config)
    except TextFrontendError as error:
        raise type(error)(f"{path}: {error}") from error
    log.info(
        "text front end from %s: %d symbols, cleaners %s",
        path,
        frontend.num_symbols,
        ", ".join(frontend.cleaners),
    )
    return frontend


def frontend_from_config(config: dict[str, Any]) -> TextFrontend:
    """The front end declared by a sidecar's parsed JSON object (see load_text_frontend).

    ``"symbols"`` may also be the name of a registered set ("english", "russian"), and
    ``"language"`` ("en" or "ru") says what the model was trained on; without cleaners or
    language, a named set gets its own (``NAMED_FRONTENDS``)."""
    symbols = _declared_symbols(config.get("symbols"))
    named = next((NAMED_FRONTENDS[n] for n, s in SYMBOL_SETS.items() if s == symbols), None)
    language = config.get("language", named[1] if named else "en")
    if language not in LANGUAGES:
        raise TextFrontendError(
            f"'language' must be one of {', '.join(LANGUAGES)}, not {language!r}"
        )
    cleaners = _declared_cleaners(config.get("cleaners"), symbols)
    num_chars = config.get("num_chars")
    if num_chars is not None and num_chars != len(symbols):
        raise SymbolSetError(
            f"num_chars is {num_chars} but {len(symbols)} symbols are declared "
            "(the embedding has one row per symbol)"
        )
    frontend = TextFrontend(symbols, cleaners, language)
    _check_cleaners_fit_symbols(frontend)
    return frontend


def _declared_symbols(value: object) -> SymbolSet:
    if value is None:
        return DEFAULT_SYMBOLS
    if isinstance(value, str):
        return symbol_set_named(value)
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise SymbolSetError("'symbols' must be a list of one-character strings")
    return SymbolSet.from_list(value)


def _declared_cleaners(value: object, symbols: SymbolSet) -> tuple[str, ...]:
    if value is None:
        for name, (cleaners, _) in NAMED_FRONTENDS.items():
            if SYMBOL_SETS[name] == symbols:
                return cleaners
        return ("basic_cleaners",)
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise TextFrontendError("'cleaners' must be a list of cleaner names")
    for name in value:
        get_cleaner(name)
    return tuple(value)


def _encodable_share(frontend: TextFrontend, text: str) -> float:
    cleaned = frontend._clean(text, None)
    return sum(char in frontend.symbols for char in cleaned) / max(1, len(cleaned))


def _check_cleaners_fit_symbols(frontend: TextFrontend) -> None:
    if max(_encodable_share(frontend, probe) for probe in _PROBES) < _MIN_ENCODABLE_SHARE:
        raise TextFrontendError(
            f"cleaners {list(frontend.cleaners)} write text that the declared symbols "
            "cannot spell (most characters would be dropped)"
        )


def text_problem(
    text: str, max_chars: int, frontend: TextFrontend | None = None
) -> TextProblem | None:
    """Why ``text`` cannot be synthesized, or None: ``"empty"`` (nothing visible: whitespace,
    zero-width and control characters), ``"too_long"`` (more than ``max_chars`` characters),
    ``"nothing_to_say"`` (nothing speakable: emoji only, or only "words" longer than a
    sentence, see ``TextFrontend.without_unsayable_words``)."""
    if not visible_text(text):
        return "empty"
    if len(text) > max_chars:
        return "too_long"
    if not (frontend or default_text_frontend()).is_speakable(text):
        return "nothing_to_say"
    return None


def has_speakable_text(text: str, frontend: TextFrontend | None = None) -> bool:
    """Whether ``text`` has anything to say for ``frontend`` (default: the English one)."""
    return (frontend or default_text_frontend()).is_speakable(text)
