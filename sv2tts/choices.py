"""The names of the engine's choices, torch-free: the one list of each.

The app validates its settings against these (DEVICE against `DEVICES`), and the CLI offers
them as its choices. What each name does is in `sv2tts.devices` and `sv2tts.speech`; the
output formats are `sv2tts.audio.OutputFormat`.
"""

from __future__ import annotations

from typing import Literal

DEVICES = ("auto", "cpu", "cuda")  # "auto": CUDA when PyTorch sees a GPU, else the CPU

VocoderName = Literal["wavernn", "griffinlim"]
VOCODERS: tuple[VocoderName, ...] = ("wavernn", "griffinlim")
