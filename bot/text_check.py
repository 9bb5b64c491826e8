"""Tidying the text a user wants spoken, before it is checked and queued.

`clean_text` is the engine's `sv2tts.text.visible_text`: format characters (bidi overrides,
zero-width spaces and joiners), control characters and blank lookalikes go, whitespace is
collapsed, so none of them reaches the job, the logs or the database. Whether anything is left
to say (empty, too long, nothing speakable) is not decided here but by the engine's own text
front end, `sv2tts.text.text_problem` (pure Python, no torch), which bot/handlers/say.py calls,
so that the bot refuses exactly what the worker could not say.
"""

from __future__ import annotations

from sv2tts.text import visible_text


def clean_text(text: str) -> str:
    """What of `text` is visible, with whitespace collapsed to single spaces."""
    return visible_text(text)
