"""The worker's engine: sv2tts's Pipeline, loaded once per process and used as it is.

`Engine` names the calls the jobs make on it (a typing Protocol, so that unit tests can run
the jobs with a stand-in engine); `load_engine` is the one place that loads the models.
What comes after `speak` (trim, pace, loudness, watermark, likeness, encoding) is the
finishing ladder, sv2tts/finish.py, which the worker and `python -m sv2tts say` share.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sv2tts.audio.recording import RecordingLimits
from sv2tts.encoder.voices import Voice

if TYPE_CHECKING:
    from sv2tts.embedding import Vector
    from sv2tts.encoder.voices import VoiceEncoder
    from sv2tts.pipeline import Pipeline
    from sv2tts.speech import Progress
    from worker.settings import WorkerSettings

log = logging.getLogger(__name__)

__all__ = [
    "Embeds",
    "Engine",
    "load_engine",
    "load_voice_engine",
]


class Embeds(Protocol):
    """What turns a recording into a voice (the Pipeline, or the bank import's VoiceEncoder)."""

    def embed(
        self, wav: np.ndarray, sample_rate: int = 16000, *, limits: RecordingLimits | None = ...
    ) -> Voice:
        """The voice of `wav`; an EngineError with a code when it fails `limits`."""
        ...


class Engine(Embeds, Protocol):
    encoder_id: str
    sample_rate: int  # of the waveforms `speak` gives and `likeness` reads

    def speak(self, text: str, voice: Vector, progress: Progress | None = None) -> np.ndarray:
        """Speech of `text` in that voice, as the vocoder made it (the ladder finishes it);
        NothingToSay if `text` has nothing speakable (`sv2tts.text.has_speakable_text`).
        `progress` is told how far it is (sv2tts.speech.Progress), when the engine knows."""
        ...

    def likeness(self, wav: np.ndarray, voice: Vector) -> float:
        """How much `wav` (at `sample_rate`) sounds like that voice: the cosine of its own
        embedding, made again from these samples, to the voice's. ValueError when the voice
        has no direction (all zeros)."""
        ...

    def speak_lines(
        self, texts: Sequence[str], voice: Vector, progress: Progress | None = None
    ) -> list[np.ndarray]:
        """One levelled waveform per text, all in that voice and made together (batched); an
        empty one for a text with nothing speakable, NothingToSay if none has."""
        ...

    def describe(self) -> dict[str, Any]: ...


def load_engine(settings: WorkerSettings) -> Pipeline:
    """Load the models from SV2TTS_WEIGHTS_DIR on the settings' device (WeightsError if
    unusable)."""
    from sv2tts.pipeline import Pipeline
    from sv2tts.text.stress import shared_stresser

    pipeline = Pipeline.load(
        settings.sv2tts_weights_dir,
        device=settings.device.value,
        threads=settings.torch_threads or None,
    )
    if settings.stress_preload:
        # Seconds of loading, spent before the worker says it is ready rather than inside the
        # first Russian job's time budget (a failure only means unstressed Russian, logged).
        shared_stresser().preload()
    return pipeline


def load_voice_engine(settings: WorkerSettings) -> VoiceEncoder:
    """The speaker encoder of SV2TTS_WEIGHTS_DIR (or resemblyzer's) on the settings' device:
    bank imports make voices, never speech."""
    from sv2tts.loading import load_voice_encoder

    return load_voice_encoder(settings.sv2tts_weights_dir, device=settings.device.value)
