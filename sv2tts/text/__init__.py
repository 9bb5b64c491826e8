"""Text front end: text to the symbol-index sequences the synthesizer reads.

Public API (import from ``sv2tts.text``; nothing here imports torch, so the bot can use it)::

    frontend = load_text_frontend(sidecar_path(checkpoint))  # or default_text_frontend()
    frontend = frontend.with_stresser(shared_stresser())  # engine only: stress and ё
    frontend.to_sequences(text, max_chars=150) -> list[list[int]]  # one per sentence, EOS-ended
    frontend.sentences(text, max_chars=150) -> list[str]   # the cleaned sentences behind them
    frontend.clean(text) -> str                            # one cleaned string, no splitting
    frontend.encode(text) -> list[int]                     # clean + encode, no splitting
    frontend.is_speakable(text) -> bool
    frontend.num_symbols -> int                            # rows of the symbol embedding
    frontend.explain(text) -> list[SentenceReading]        # words (stressed), ids, symbols
    frontend_named("russian") -> TextFrontend              # a registered symbol set's
    frontend.sidecar_config() -> {"language", "symbols", "cleaners"}

    text_problem(text, max_chars) -> "empty" | "too_long" | "nothing_to_say" | None
    has_speakable_text(text) -> bool
    split_sentences(text, max_chars=150) -> list[str]      # raw sentences, none empty
    sentence_language(text) -> "en" | "ru"
    strip_invisible(text) -> str   # format/control characters out, line breaks kept
    visible_text(text) -> str      # the same, whitespace collapsed to single spaces

Symbol sets (:mod:`sv2tts.text.symbols`): index 0 is the pad symbol, index 1 end of sequence
(appended by ``encode``), every symbol one character; characters outside the set are dropped
with a warning, never an error. ``DEFAULT_SYMBOLS`` is the public checkpoint's 66; named sets
(``SYMBOL_SETS``): "english" (those 66) and "russian" (Cyrillic and "+" for stress).

A checkpoint may declare its own set beside it in ``<checkpoint>.json`` with ``"symbols"``
(a list, or a registered set's name), ``"cleaners"`` and ``"language"`` (other keys are model
config). Cleaners (:mod:`sv2tts.text.cleaners`): ``english_cleaners`` (default; English
normalised, Russian sentences expanded in Russian, stressed where a stresser is given, and
transliterated for English phonetics), ``russian_stressed_cleaners`` (for a Russian-trained
model: stressed Cyrillic, "молок+о"), ``russian_cleaners`` (Cyrillic kept, no stress),
``transliteration_cleaners``, ``basic_cleaners``. Stress (:mod:`sv2tts.text.stress`) needs
torch and is loaded by the engine only; nothing imported here imports torch. Problems raise
:class:`TextFrontendError` (:class:`UnknownCleanerError`, :class:`SymbolSetError`).
"""

from sv2tts.text.cleaners import CLEANERS, UnknownCleanerError, get_cleaner, sentence_language
from sv2tts.text.frontend import (
    DEFAULT_CLEANERS,
    SentenceReading,
    TextFrontend,
    TextProblem,
    default_text_frontend,
    frontend_from_config,
    frontend_named,
    has_speakable_text,
    load_text_frontend,
    sidecar_path,
    text_problem,
)
from sv2tts.text.sentences import DEFAULT_MAX_SENTENCE_CHARS, split_sentences
from sv2tts.text.symbols import (
    DEFAULT_SYMBOLS,
    EOS_INDEX,
    PAD_INDEX,
    RUSSIAN_SYMBOLS,
    SYMBOL_SETS,
    SymbolSet,
    SymbolSetError,
    TextFrontendError,
    symbol_set_named,
)
from sv2tts.text.visible import strip_invisible, visible_text

__all__ = [
    "CLEANERS",
    "DEFAULT_CLEANERS",
    "DEFAULT_MAX_SENTENCE_CHARS",
    "DEFAULT_SYMBOLS",
    "EOS_INDEX",
    "PAD_INDEX",
    "RUSSIAN_SYMBOLS",
    "SYMBOL_SETS",
    "SentenceReading",
    "SymbolSet",
    "SymbolSetError",
    "TextFrontend",
    "TextFrontendError",
    "TextProblem",
    "UnknownCleanerError",
    "default_text_frontend",
    "frontend_from_config",
    "frontend_named",
    "get_cleaner",
    "has_speakable_text",
    "load_text_frontend",
    "sentence_language",
    "sidecar_path",
    "split_sentences",
    "strip_invisible",
    "symbol_set_named",
    "text_problem",
    "visible_text",
]
