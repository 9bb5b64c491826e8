"""The names of the engine's choices, torch-free: the one list of each.

The app validates its settings against these (DEVICE against `DEVICES`), and the CLI offers
them as its choices; the bot's storage keeps a user's `OutputFormat`. What each name does is
in `sv2tts.devices`, `sv2tts.speech` and `sv2tts.audio.codec`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

DEVICES = ("auto", "cpu", "cuda")  # "auto": CUDA when PyTorch sees a GPU, else the CPU

VocoderName = Literal["wavernn", "griffinlim"]
VOCODERS: tuple[VocoderName, ...] = ("wavernn", "griffinlim")

# How WaveRNN's sample loop multiplies (sv2tts.vocoder.fast): float32 is the reference's
# arithmetic; bfloat16 and int8 are faster approximations.
Precision = Literal["float32", "bfloat16", "int8"]

# Paces speech may be sped up or slowed down to (sv2tts.audio.codec.change_tempo): slower and faster
# than this, speech stops sounding natural. The bot's storage keeps a user's pace within it.
TEMPO_RANGE = (0.75, 1.5)


def check_tempo(factor: float, what: str = "the tempo factor") -> None:
    """ValueError, naming `what`, for a tempo factor outside TEMPO_RANGE."""
    low, high = TEMPO_RANGE
    if not low <= factor <= high:
        raise ValueError(f"{what} must be within {low:g}..{high:g}, not {factor:g}")


# What /check makes of a recording (sv2tts.watermark.model.verdict; worker.api's CheckResult).
WatermarkVerdict = Literal["found", "absent", "unclear"]
PRECISIONS: tuple[Precision, ...] = ("float32", "bfloat16", "int8")


class OutputFormat(StrEnum):
    """What a user gets back: a voice note (OGG/Opus) or an MP3 file (`audio.codec.encode`)."""

    voice = "voice"
    mp3 = "mp3"
