"""SV2TTS: speaker encoder, Tacotron synthesizer and WaveRNN vocoder, as a library.

    from sv2tts import Pipeline
    pipeline = Pipeline.load("pretrained", device="auto")
    voice = pipeline.embed("recording.ogg")
    wav = pipeline.synthesize("Hello there.", voice)    # float32 at 16 kHz

Importing `sv2tts` (or `sv2tts.text`, which the bot uses) loads no torch: the names below
are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Pipeline": "sv2tts.pipeline",
    "Embedding": "sv2tts.pipeline",
    "RecordingLimits": "sv2tts.pipeline",
    "SynthesisOptions": "sv2tts.pipeline",
    "PipelineError": "sv2tts.pipeline",
    "WeightsError": "sv2tts.weights",
    "download_weights": "sv2tts.weights",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sv2tts' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
