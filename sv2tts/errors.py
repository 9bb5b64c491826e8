"""The engine's refusals: one exception type whose `code` tells the caller what went wrong.

Every refusal of input (audio that does not decode, a recording that cannot give a voice,
text with nothing to say) is an `EngineError` with a short code and a human detail. The codes
are part of the engine's contract: the app maps each to a message for its users, so the full
list is here (`ENGINE_ERROR_CODES`) and each subclass names the ones it may carry.

Torch-free: the bot and the worker's contract may import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from sv2tts.audio.recording import RecordingStats

# What decoding untrusted audio can refuse (sv2tts.audio.codec); "internal": our own encoding
# failed.
DECODE_ERROR_CODES = ("not_audio", "too_large", "too_long", "decode_timeout", "internal")
# What a decoded recording can fail (sv2tts.audio.recording), in the order the user must fix them.
RECORDING_ERROR_CODES = ("too_short", "silent", "clipped", "no_speech")
ENGINE_ERROR_CODES = (*DECODE_ERROR_CODES, *RECORDING_ERROR_CODES, "nothing_to_say")


class EngineError(ValueError):
    """Input the engine cannot use; `code` is one of the class's `codes`."""

    codes: ClassVar[tuple[str, ...]] = ENGINE_ERROR_CODES

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in self.codes:
            raise ValueError(f"unknown {type(self).__name__} code {code!r}")
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class AudioError(EngineError):
    """Audio refused before or while it was decoded (or our own encoding failed)."""

    codes = DECODE_ERROR_CODES


class RecordingError(EngineError):
    """A decoded recording that cannot give a usable voice; `stats`: what it measured."""

    codes = RECORDING_ERROR_CODES

    def __init__(self, code: str, detail: str = "", stats: RecordingStats | None = None) -> None:
        super().__init__(code, detail)
        self.stats = stats


class NothingToSay(EngineError):
    """Text with nothing speakable in it."""

    codes = ("nothing_to_say",)

    def __init__(self, detail: str = "") -> None:
        super().__init__("nothing_to_say", detail)
