"""A /dialogue script: lines `Name: text`, read into turns before any voice is looked up.

    Anna: Hi, Boris! Did you see the news?
    Boris: I did.
    It was about time.          <- no name: it goes on Boris's turn

A line starts a turn when it begins with a name (1 to MAX_NAME_CHARS characters, no colon)
and a colon; the text is what follows the first colon, so "Anna: at 10:30" is Anna saying
"at 10:30". A line without a colon continues the turn before it. Text before the first name
has no speaker: the script is refused with the usage. Pure functions, no I/O: the handler
(bot/handlers/dialogue.py) resolves the names against the user's voices and the bank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage import MAX_VOICE_NAME_CHARS

MAX_NAME_CHARS = MAX_VOICE_NAME_CHARS
_TURN = re.compile(rf"^\s*([^:\n]{{1,{MAX_NAME_CHARS}}}?)\s*:(.*)$")


@dataclass(frozen=True, slots=True)
class ScriptLine:
    name: str  # as written
    text: str  # the turn's text, lines joined with spaces
    line: int  # 1-based line of the script where the turn starts


@dataclass(frozen=True, slots=True)
class Script:
    turns: list[ScriptLine]

    @property
    def names(self) -> list[str]:
        """The distinct names as first written, in order of first appearance (by case-folded
        name)."""
        seen: dict[str, str] = {}
        for turn in self.turns:
            seen.setdefault(turn.name.casefold(), turn.name)
        return list(seen.values())

    @property
    def spoken_text(self) -> str:
        """All that will be said, turn after turn (what the limits of /say count)."""
        return "\n".join(turn.text for turn in self.turns)


def parse_script(raw: str) -> Script | None:
    """The turns of `raw`; None when it has no turn, or text before its first name."""
    turns: list[ScriptLine] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        match = _TURN.match(line)
        if match and match.group(1).strip():
            turns.append(ScriptLine(match.group(1).strip(), match.group(2).strip(), number))
        elif turns:
            last = turns[-1]
            text = f"{last.text} {line.strip()}".strip()
            turns[-1] = ScriptLine(last.name, text, last.line)
        else:
            return None
    return Script(turns) if turns else None
