"""A first look at text to speak. The worker's text front end has the final word."""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class TextProblem(StrEnum):
    empty = "empty"
    too_long = "too_long"
    nothing_speakable = "nothing_speakable"


def clean_text(text: str) -> str:
    """Collapse whitespace; control characters other than line breaks go."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return " ".join(kept.split())


def has_speakable(text: str) -> bool:
    """Letters or digits in any script: emoji, punctuation and symbols alone are not speech."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def text_problem(text: str, max_chars: int) -> TextProblem | None:
    if not text:
        return TextProblem.empty
    if len(text) > max_chars:
        return TextProblem.too_long
    if not has_speakable(text):
        return TextProblem.nothing_speakable
    return None
