"""The worker's view of the speech engine: the calls the jobs make on sv2tts's Pipeline.

Kept apart so that the jobs read as job logic and so that unit tests can run them with a
stand-in engine; `load_engine` is the one place that loads the models (once per process).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sv2tts.audio.recording import RecordingLimits
from sv2tts.encoder.voices import Voice

if TYPE_CHECKING:
    from sv2tts.encoder.voices import VoiceEncoder
    from sv2tts.pipeline import Pipeline
    from sv2tts.speech import Progress
    from worker.settings import WorkerSettings

log = logging.getLogger(__name__)

__all__ = [
    "Embeds",
    "Engine",
    "PipelineEngine",
    "RecordingLimits",
    "Voice",
    "VoiceEngine",
    "load_engine",
    "load_voice_engine",
]


class Embeds(Protocol):
    """What turns a recording into a voice (a worker's engine, or the bank import's encoder)."""

    def embed(self, wav: np.ndarray, limits: RecordingLimits) -> Voice:
        """The voice of 16 kHz `wav`; an EngineError with a code when it fails `limits`."""
        ...


class Engine(Embeds, Protocol):
    encoder_id: str
    sample_rate: int  # of the waveforms `speak` returns

    def speak(
        self, text: str, embedding: Sequence[float], progress: Progress | None = None
    ) -> np.ndarray:
        """Speech of `text` in that voice; an EngineError("nothing_to_say") if none.
        `progress` is told how far it is (sv2tts.speech.Progress), when the engine knows."""
        ...

    def likeness(self, wav: np.ndarray, embedding: Sequence[float]) -> float:
        """How much `wav` (at `sample_rate`) sounds like that voice: the cosine of its own
        embedding, made again from these samples, to `embedding`. ValueError when the voice
        has no direction (all zeros)."""
        ...

    def speak_lines(
        self, texts: Sequence[str], embedding: Sequence[float], progress: Progress | None = None
    ) -> list[np.ndarray]:
        """One waveform per text, all in that voice and made together (batched); an empty
        one for a text with nothing speakable, EngineError("nothing_to_say") if none has."""
        ...

    def describe(self) -> dict[str, Any]: ...


class PipelineEngine:
    """sv2tts's Pipeline behind the Engine protocol."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self.encoder_id: str = pipeline.encoder_id
        self.sample_rate: int = pipeline.sample_rate

    def embed(self, wav: np.ndarray, limits: RecordingLimits) -> Voice:
        return self._pipeline.embed(wav, 16000, limits=limits)

    def speak(
        self, text: str, embedding: Sequence[float], progress: Progress | None = None
    ) -> np.ndarray:
        vector = np.asarray(embedding, dtype=np.float32)
        return self._pipeline.synthesize(text, vector, progress=progress)

    def likeness(self, wav: np.ndarray, embedding: Sequence[float]) -> float:
        return self._pipeline.likeness(wav, np.asarray(embedding, dtype=np.float32))

    def speak_lines(
        self, texts: Sequence[str], embedding: Sequence[float], progress: Progress | None = None
    ) -> list[np.ndarray]:
        vector = np.asarray(embedding, dtype=np.float32)
        return self._pipeline.synthesize_lines(texts, vector, progress=progress)

    def describe(self) -> dict[str, Any]:
        info = self._pipeline.describe()
        return {"device": info["device"], "weights": info}


class VoiceEngine:
    """The speaker encoder alone, behind `Embeds` (bank imports make voices, never speech)."""

    def __init__(self, encoder: VoiceEncoder) -> None:
        self._encoder = encoder

    def embed(self, wav: np.ndarray, limits: RecordingLimits) -> Voice:
        return self._encoder.embed(wav, 16000, limits=limits)


def load_engine(settings: WorkerSettings) -> PipelineEngine:
    """Load the models from SV2TTS_WEIGHTS_DIR on the settings' device (WeightsError if
    unusable)."""
    from sv2tts.pipeline import Pipeline

    return PipelineEngine(
        Pipeline.load(
            settings.sv2tts_weights_dir,
            device=settings.device.value,
            threads=settings.torch_threads or None,
        )
    )


def load_voice_engine(settings: WorkerSettings) -> VoiceEngine:
    """The speaker encoder of SV2TTS_WEIGHTS_DIR (or resemblyzer's) on the settings' device."""
    from sv2tts.loading import load_voice_encoder

    return VoiceEngine(
        load_voice_encoder(settings.sv2tts_weights_dir, device=settings.device.value)
    )
