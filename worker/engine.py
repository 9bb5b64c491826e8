"""The worker's view of the speech engine: the few calls the jobs make on sv2tts's Pipeline.

Kept apart so that the jobs read as job logic and so that the unit tests can run them with a
stand-in engine; `load_engine` is the one place that loads the models (once per process).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sv2tts.dsp import RecordingStats, measure_recording

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["Engine", "PipelineEngine", "RecordingStats", "load_engine"]


class Engine(Protocol):
    encoder_id: str
    sample_rate: int  # of the waveforms `speak` returns

    def measure(self, wav: np.ndarray) -> RecordingStats: ...

    def embed(self, wav: np.ndarray) -> np.ndarray: ...

    def speak(self, text: str, embedding: Sequence[float], *, language: str) -> np.ndarray: ...

    def describe(self) -> dict[str, Any]: ...


class PipelineEngine:
    """sv2tts's Pipeline behind the Engine protocol."""

    def __init__(self, pipeline: Any, device: str) -> None:
        self._pipeline = pipeline
        self._device = device
        self.encoder_id: str = pipeline.encoder_id
        self.sample_rate: int = pipeline.sample_rate

    def measure(self, wav: np.ndarray) -> RecordingStats:
        return measure_recording(wav, 16000)

    def embed(self, wav: np.ndarray) -> np.ndarray:
        return np.asarray(self._pipeline.embed(wav, 16000), dtype=np.float32)

    def speak(self, text: str, embedding: Sequence[float], *, language: str) -> np.ndarray:
        vector = np.asarray(embedding, dtype=np.float32)
        return np.asarray(self._pipeline.synthesize([text], vector), dtype=np.float32)

    def describe(self) -> dict[str, Any]:
        return {"device": self._device, "weights": self._pipeline.describe()}


def load_engine(settings: Settings) -> PipelineEngine:
    """Load the models from SV2TTS_WEIGHTS_DIR on Settings.device (WeightsError if unusable)."""
    from sv2tts.pipeline import Pipeline

    pipeline = Pipeline.load(settings.sv2tts_weights_dir, device=settings.device.value)
    return PipelineEngine(pipeline, str(pipeline.device))
