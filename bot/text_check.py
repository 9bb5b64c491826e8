"""Tidying the text a user wants spoken, before it is checked and queued.

`clean_text` is the engine's `sv2tts.text.visible_text`: format characters (bidi overrides,
zero-width spaces and joiners), control characters and blank lookalikes go, whitespace is
collapsed, so none of them reaches the job, the logs or the database. Whether anything is left
to say (empty, too long, nothing speakable) is not decided here but by the engine's own text
front end, `sv2tts.text.text_problem` (pure Python, no torch), which bot/services/speech.py calls,
so that the bot refuses exactly what the worker could not say.

How much work a text is, is counted by `symbol_count`: the symbols the synthesizer will read,
after the front end has spelled out numbers, money, dates and abbreviations (and
transliterated Russian), one sentence at a time as the worker splits it. Characters do not
measure it: "777777777777 " x 77 is 1,000 characters and 10,549 symbols. The text limit
(MAX_TEXT_SYMBOLS) and a synth job's time budget are both taken from this count. It is the
default (public checkpoint's) front end's count; a checkpoint with a front end of its own
spells a text out to about as many symbols.
"""

from __future__ import annotations

from sv2tts.text import default_text_frontend, visible_text


def clean_text(text: str) -> str:
    """What of `text` is visible, with whitespace collapsed to single spaces."""
    return visible_text(text)


def symbol_count(text: str) -> int:
    """How many symbols (end-of-sentence marks included) the synthesizer reads for `text`."""
    return sum(len(sequence) for sequence in default_text_frontend().to_sequences(text))
