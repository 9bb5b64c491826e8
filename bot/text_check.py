"""A first look at text to speak, before it is queued.

Whether there is anything to say is decided by the engine's own text front end
(`sv2tts.text`, pure Python, no torch), so the bot refuses exactly what the worker could not say.
"""

from __future__ import annotations

import unicodedata


def clean_text(text: str) -> str:
    """Collapse whitespace; control characters other than line breaks go."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return " ".join(kept.split())
