"""SV2TTS: speaker encoder, Tacotron synthesizer and WaveRNN vocoder, as a library.

    from sv2tts import Pipeline, decode_audio
    from sv2tts.finish import Finishing, finish
    pipeline = Pipeline.load("pretrained", device="auto")
    voice = pipeline.embed(decode_audio("recording.ogg"))   # 16 kHz samples in
    wav = pipeline.speak("Hello there.", voice)              # float32 at 16 kHz, unfinished
    note = finish(wav, pipeline.sample_rate, Finishing(pace=1.25))   # .data: an Opus note

Importing `sv2tts` (or `sv2tts.text`, which the bot uses) loads no torch: the names below
are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Pipeline": "sv2tts.pipeline",
    "Voice": "sv2tts.encoder.voices",
    "VoiceEncoder": "sv2tts.encoder.voices",
    "SynthesisOptions": "sv2tts.speech",
    "Finishing": "sv2tts.finish",
    "load_voice_encoder": "sv2tts.loading",
    "RecordingLimits": "sv2tts.audio.recording",
    "RecordingStats": "sv2tts.audio.recording",
    "EngineError": "sv2tts.errors",
    "decode_audio": "sv2tts.audio.codec",
    "WeightsError": "sv2tts.weights.manifest",
    "download_weights": "sv2tts.weights.download",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sv2tts' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
