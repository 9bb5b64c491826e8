"""The project's Russian front-end corpus and its score.

Each ``*.tsv`` line is ``input TAB expected reading``. A sentence is *exact* when
:func:`sv2tts.text.russian.expand_russian` gives the same words in the same order, compared
case-insensitively with ё read as е and punctuation (hyphens included) ignored.

Score a corpus (prints the misses and the rate)::

    .venv/bin/python -m tests.sv2tts.text.russian_corpus tests/sv2tts/text/russian_corpus/*.tsv
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).parent
CORPUS = HERE / "russian_corpus.tsv"
HELD_OUT = HERE / "russian_corpus_heldout.tsv"

_WORD_RE = re.compile(r"[^\W\d_]+|\d+")


def words(text: str) -> list[str]:
    """The words of ``text`` as the exact-match rule compares them."""
    return _WORD_RE.findall(text.lower().replace("ё", "е"))


def load(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            text, expected = line.split("\t")
            pairs.append((text, expected))
    return pairs


def misses(pairs: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(input, expected, got) for every sentence that is not exact."""
    from sv2tts.text.russian import expand_russian

    out = []
    for text, expected in pairs:
        got = expand_russian(text)
        if words(got) != words(expected):
            out.append((text, expected, got))
    return out
