"""Cutting text into sentences short enough for one synthesizer pass.

Tacotron's attention degrades on long inputs and the decoder has a step limit, so long text
is synthesized sentence by sentence (in batches) and the audio joined.
"""

from __future__ import annotations

import logging
import re

from sv2tts.text.ru_morph import has_tag

log = logging.getLogger(__name__)

# About ten seconds of speech; the public model was trained on LibriSpeech utterances of
# similar length, and its decoder step limit is reached soon after.
DEFAULT_MAX_SENTENCE_CHARS = 150

# End of a sentence: terminal punctuation, closing quotes or brackets, then a space.
_BOUNDARY_RE = re.compile(r"[.!?\u2026]+[\"'\u00bb\u201d\u2019)\]]*(?=\s)")
# Abbreviations that come before a name or a number and so never end a sentence.
_NEVER_FINAL = frozenset(
    {
        "mr", "mrs", "ms", "dr", "st", "prof", "rev", "gen", "col", "lt", "sgt", "capt",
        "maj", "hon", "mt", "ft", "no", "vs", "e.g", "i.e", "approx",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "т.е", "т.к", "т.н", "т.ч", "т.о", "см", "напр", "ул", "пер", "просп", "д", "кв",
        "стр", "рис", "им", "св", "проф", "акад", "доц", "зам", "тыс", "г-н", "г-жа",
        "гл", "ст", "пос", "ок",
    }
)  # fmt: skip
_SOFT_BREAK_RE = re.compile(r"[,;:](?=\s)|\s--?(?=\s)|\s[\u2013\u2014](?=\s)")
_WORD_CHAR_RE = re.compile(r"\w")
_FIRST_WORD_RE = re.compile(r"[А-ЯЁ][а-яё]+")


def _word_before(text: str, end: int) -> str:
    words = text[:end].split()
    return words[-1].lstrip("\"'(\u00ab[").lower() if words else ""


def _is_name(rest: str) -> bool:
    """Whether the text after a full stop begins with a proper name ("В 1812 г. Наполеон
    вошёл": the year is part of the sentence the name begins), by the dictionary."""
    first = _FIRST_WORD_RE.match(rest)
    return bool(first) and any(
        has_tag(first[0], grammeme) for grammeme in ("Name", "Surn", "Geox", "Orgn")
    )


def _is_boundary(line: str, match: re.Match[str]) -> bool:
    rest = line[match.end() :].lstrip()
    if not rest or rest[0].islower():
        return False  # "e.g. this", "т.е. это", "... and then": the sentence goes on
    if not match[0].startswith("."):
        return True
    word = _word_before(line, match.start() + 1).rstrip(".")
    if word in _NEVER_FINAL:
        return False
    if word == "г":  # "г. Москва" (город) goes on; "в 2024 г." (год) may end a sentence
        return _word_before(line, match.start() - 1)[:1].isdigit() and not _is_name(rest)
    # An initial ("J. K. Rowling", "А. С. Пушкин").
    return not (len(word) == 1 and word.isalpha())


def _sentences_of_line(line: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY_RE.finditer(line):
        if _is_boundary(line, match):
            pieces.append(line[start : match.end()])
            start = match.end()
    pieces.append(line[start:])
    return pieces


def _cut_position(text: str, max_chars: int) -> int:
    """Where to cut ``text`` (longer than ``max_chars``): after the last comma, semicolon,
    colon or dash that leaves a piece of some length, else at the last space, else hard."""
    soft = [m.end() for m in _SOFT_BREAK_RE.finditer(text[:max_chars])]
    soft = [pos for pos in soft if pos >= max_chars // 4]
    if soft:
        return soft[-1]
    space = text.rfind(" ", 1, max_chars + 1)
    return space if space > 0 else max_chars


def split_long(text: str, max_chars: int) -> list[str]:
    """``text`` in pieces of at most ``max_chars``, cut at punctuation or spaces."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > max_chars:
        cut = _cut_position(rest, max_chars)
        head, rest = rest[:cut].strip(), rest[cut:].strip()
        if head:
            pieces.append(head)
    if rest:
        pieces.append(rest)
    return pieces


def split_sentences(text: str, max_chars: int = DEFAULT_MAX_SENTENCE_CHARS) -> list[str]:
    """The sentences of ``text`` (English or Russian), each at most ``max_chars`` long.

    Splits at line breaks and at ``.``, ``!``, ``?``, ``...``/``…`` followed by a space and
    something that is not a lower-case letter, but not after abbreviations that precede a
    name or number ("Dr.", "St.", "т.е.", "г. Москва"), after a year's "г." when a name
    follows ("В 1812 г. Наполеон вошёл"), or after initials ("А. С. Пушкин"). Over-long
    sentences are cut at commas, semicolons, colons and dashes, then at spaces. Never
    returns an empty piece, nor one without a letter or digit."""
    pieces: list[str] = []
    for line in text.splitlines():
        for sentence in _sentences_of_line(line):
            pieces.extend(split_long(sentence, max_chars))
    return [piece for piece in pieces if _WORD_CHAR_RE.search(piece)]
