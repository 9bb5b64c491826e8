"""The one rule for voice names: a rename, a bank recording's file name, the default "Voice N".

A name is shown on buttons, in cards and in replies, next to the marks the bot itself puts
there, so it must look like what it is:

1. What cannot be seen goes (`sv2tts.text.visible_text`, the same rule as for text to speak):
   format characters (Unicode Cf: bidi overrides and isolates, zero-width spaces and joiners,
   the byte order mark), controls, blank lookalikes. A bidi override would reverse the reply
   around the name ("Renamed to “…”" read backwards), a zero-width character makes two names
   that look the same differ. The name is NFC-normalised, so that "é" typed two ways is one.
2. Line breaks (Zl, Zp, "\\n" and the other line-ending controls) become spaces, and runs of
   whitespace one space. Not a refusal: a button has one line, and whoever typed a name on
   two lines meant its words; the reply shows them the name as it is kept.
3. A name with nothing left (or only combining marks, on nothing) is refused (`empty`), as
   is one over `MAX_VOICE_NAME_CHARS` (`too_long`; a bank import cuts the file name instead,
   since the admin may not have chosen it).
4. A name may not begin with a picture character (Unicode So: emoji, stars, dingbats):
   refused (`marker`). The bot marks names at their start (⭐ a curated bank voice, 🎙 a
   user's bank voice, ✅ the active one, 🌐 a published one), and a user's voice called
   "⭐ Anna" would pose as a curated one. One class of characters, not a list of stars: the
   lookalikes (🌟 ★ ✩ ✨ …) are endless.

Storage refuses names with controls, format characters or line separators
(`storage.models.validate_voice_name`), so a name that skipped this rule still cannot carry
them.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

from storage import MAX_VOICE_NAME_CHARS
from sv2tts.text import visible_text

NameProblem = Literal["empty", "too_long", "marker"]

# The bot's mark before a curated bank voice's name (a user's name cannot begin like it).
CURATED_MARK = "⭐"


class VoiceNameError(ValueError):
    """A name the rule refuses; `problem` says which part of it."""

    def __init__(self, problem: NameProblem) -> None:
        super().__init__(f"unusable voice name: {problem}")
        self.problem: NameProblem = problem


def begins_with_a_mark(name: str) -> bool:
    """Whether `name` begins with a picture character, as the bot's own marks do. Combining
    marks before it (a stray variation selector) do not count: they show nothing alone."""
    for char in name:
        category = unicodedata.category(char)
        if not category.startswith("M"):
            return category == "So"
    return False


def clean_voice_name(raw: str, *, cut: bool = False) -> str:
    """`raw` as a voice name by the rule above; VoiceNameError if it is unusable.

    With `cut`, a name over the limit is cut to it instead of being refused."""
    name = visible_text(unicodedata.normalize("NFC", raw))
    if all(unicodedata.category(char).startswith("M") for char in name):
        raise VoiceNameError("empty")  # nothing, or combining marks on nothing
    if len(name) > MAX_VOICE_NAME_CHARS:
        if not cut:
            raise VoiceNameError("too_long")
        name = name[:MAX_VOICE_NAME_CHARS].rstrip()
    if begins_with_a_mark(name):
        raise VoiceNameError("marker")
    return name
