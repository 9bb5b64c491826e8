"""What of a text can be seen: the characters that say something, and plain whitespace.

Text typed or pasted into a chat carries characters nobody sees: format characters (Unicode
category Cf: bidi overrides and isolates, zero-width spaces and joiners, the byte order mark,
soft hyphens, tag characters), control characters (Cc: NUL, the ESC of a terminal colour
code, DEL), lone surrogates (Cs, which no UTF-8 encoder accepts), and letters that render as
nothing (the Hangul fillers and the braille blank, used for "invisible" names). None of them
is spoken, yet each used to reach the cleaners, where a zero-width joiner inside a word split
it ("wo\\u200drld" was read "wo rld") and a right-to-left mark after a full stop hid the
sentence boundary; and the job, the logs and the database.

`strip_invisible` drops them and keeps the layout (line breaks stay line breaks, since the
sentence splitter cuts there); `visible_text` also collapses every run of whitespace to one
space. The bot's text check, the front end's cleaning and the voice-name rule all use these.
"""

from __future__ import annotations

import unicodedata

# Line and paragraph separators (Zl, Zp) and the C0/C1 controls that end a line.
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
# Letters (Lo) and a symbol (So) that render as blank space.
BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800")
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def strip_invisible(text: str) -> str:
    """`text` without format, control and surrogate characters; line breaks as "\\n",
    blank lookalikes as spaces, other whitespace as it was."""
    kept: list[str] = []
    for char in text:
        if char in LINE_BREAKS:
            kept.append("\n")
        elif char in BLANK_LOOKALIKES:
            kept.append(" ")
        # Whitespace is tested first: the tab is a control character too.
        elif char.isspace() or unicodedata.category(char) not in INVISIBLE_CATEGORIES:
            kept.append(char)
    return "".join(kept)


def visible_text(text: str) -> str:
    """`strip_invisible(text)` with every run of whitespace (line breaks too) one space,
    and none at either end."""
    return " ".join(strip_invisible(text).split())
