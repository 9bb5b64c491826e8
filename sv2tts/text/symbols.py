"""Input symbol sets of the synthesizer.

Conventions every symbol set follows (the public checkpoint's, and those a sidecar declares):

- index 0 is the padding symbol (``_`` in the public checkpoint): batches of texts of unequal
  length are padded with it, and text never maps to it;
- index 1 is the end-of-sequence symbol (``~``): :meth:`SymbolSet.encode` appends it once;
- every symbol is exactly one character, and no character appears twice.

A character of the cleaned text that is not in the set (or is the pad or EOS character) is
dropped, because the model has no embedding for it; a warning names what was dropped.

Named sets (``SYMBOL_SETS``, ``symbol_set_named``), for the tools that write a checkpoint's
sidecar (``python -m sv2tts preprocess --symbols NAME``) and for sidecars that name one:

- ``"english"``: the public checkpoint's 66 (``DEFAULT_SYMBOLS``): pad, EOS, A-Z, a-z,
  ``!'"(),-.:;?`` and space; its text is English, Russian transliterated.
- ``"russian"``: pad, EOS, the 33 lower-case Russian letters (ё among them), the same
  punctuation and space, and ``+``, the stress mark written before the stressed vowel
  ("молок+о"), as silero-stress writes it and Russian TTS corpora are annotated.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

log = logging.getLogger(__name__)

PAD_INDEX = 0
EOS_INDEX = 1

DEFAULT_PAD = "_"
DEFAULT_EOS = "~"
PUNCTUATION = "!'\"(),-.:;? "
DEFAULT_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" + PUNCTUATION
RUSSIAN_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
STRESS_SYMBOL = "+"
RUSSIAN_CHARACTERS = RUSSIAN_LETTERS + PUNCTUATION + STRESS_SYMBOL


class TextFrontendError(ValueError):
    """A text front end that cannot be built as declared (symbols, cleaners, sidecar)."""


class SymbolSetError(TextFrontendError):
    """A symbol set that breaks the conventions above."""


@dataclass(frozen=True)
class SymbolSet:
    """An ordered tuple of one-character symbols; the index of a symbol is its embedding row."""

    symbols: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = symbol_set_problems(self.symbols)
        if problems:
            raise SymbolSetError("invalid symbol set: " + "; ".join(problems))
        index = {symbol: i for i, symbol in enumerate(self.symbols) if i > EOS_INDEX}
        object.__setattr__(self, "_index", index)

    @classmethod
    def from_list(cls, symbols: Sequence[str]) -> SymbolSet:
        return cls(tuple(symbols))

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, char: object) -> bool:
        return char in self._index

    @property
    def pad(self) -> str:
        return self.symbols[PAD_INDEX]

    @property
    def eos(self) -> str:
        return self.symbols[EOS_INDEX]

    def encode(self, cleaned_text: str) -> list[int]:
        """Indices of ``cleaned_text``'s characters, then EOS; unknown characters dropped."""
        ids = [self._index[char] for char in cleaned_text if char in self._index]
        if len(ids) != len(cleaned_text):
            dropped = sorted({char for char in cleaned_text if char not in self._index})
            log.warning("dropped characters the model has no symbol for: %r", "".join(dropped))
        ids.append(EOS_INDEX)
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        """The characters of ``ids`` without pad and EOS (for logs and tests)."""
        return "".join(self.symbols[i] for i in ids if i > EOS_INDEX)

    def is_speakable(self, char: str) -> bool:
        """Whether ``char`` is a symbol the model says as a sound (a letter or digit)."""
        return char in self._index and char.isalnum()


def symbol_set_problems(symbols: Sequence[str]) -> list[str]:
    """What is wrong with ``symbols`` under the conventions of this module (empty if nothing)."""
    problems: list[str] = []
    if len(symbols) < 3:
        problems.append(f"needs a pad, an EOS and at least one character, got {len(symbols)}")
    not_chars = [s for s in symbols if not isinstance(s, str) or len(s) != 1]
    if not_chars:
        problems.append(f"every symbol must be one character, got {not_chars[:5]!r}")
        return problems
    repeated = sorted(s for s, n in Counter(symbols).items() if n > 1)
    if repeated:
        problems.append(f"symbols repeated: {repeated!r}")
    return problems


DEFAULT_SYMBOLS = SymbolSet((DEFAULT_PAD, DEFAULT_EOS, *DEFAULT_CHARACTERS))
RUSSIAN_SYMBOLS = SymbolSet((DEFAULT_PAD, DEFAULT_EOS, *RUSSIAN_CHARACTERS))

SYMBOL_SETS: Mapping[str, SymbolSet] = MappingProxyType(
    {"english": DEFAULT_SYMBOLS, "russian": RUSSIAN_SYMBOLS}
)


def symbol_set_named(name: str) -> SymbolSet:
    """The registered symbol set ``name``; SymbolSetError naming the known ones if none."""
    try:
        return SYMBOL_SETS[name]
    except KeyError:
        known = ", ".join(sorted(SYMBOL_SETS))
        raise SymbolSetError(f"unknown symbol set {name!r} (known: {known})") from None
