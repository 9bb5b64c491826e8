"""Tidying the text a user wants spoken, before it is checked and queued.

`clean_text` only collapses whitespace and drops control characters. Whether anything is left
to say (empty, too long, nothing speakable) is not decided here but by the engine's own text
front end, `sv2tts.text.text_problem` (pure Python, no torch), which bot/handlers/say.py calls,
so that the bot refuses exactly what the worker could not say.
"""

from __future__ import annotations

import unicodedata


def clean_text(text: str) -> str:
    """Collapse whitespace; control characters other than line breaks go."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return " ".join(kept.split())
