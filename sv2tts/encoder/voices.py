"""Voices: a recording's samples in, a speaker embedding and its measurements out.

    encoder = load_voice_encoder("pretrained", device="auto")   # sv2tts.loading
    voice = encoder.embed(wav, 16000)      # Voice, or RecordingError ("silent", ...)
    np.asarray(voice)                      # the (256,) float32 unit vector

Decoding files is not done here: the caller decodes (`sv2tts.audio.codec.decode_audio`, under its
byte, duration and time limits) and passes samples.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from sv2tts.audio import dsp
from sv2tts.audio.recording import (
    RecordingLimits,
    RecordingStats,
    measure_recording,
    recording_problem,
)
from sv2tts.embedding import Vector, cosine_similarity
from sv2tts.encoder.model import SpeakerEncoder
from sv2tts.errors import RecordingError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Voice:
    """A voice: the speaker encoder's unit vector and what its recording measured.

    `np.asarray(voice)` is the vector, so a Voice goes wherever an embedding is expected.
    """

    vector: np.ndarray  # (256,) float32, L2-normalised
    encoder_id: str  # sha256 prefix of the encoder weights that made it
    recording: RecordingStats

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.vector if dtype is None else self.vector.astype(dtype)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready and flat: the vector as a list of floats, then the measurements."""
        return {
            "vector": [float(x) for x in self.vector],
            "encoder_id": self.encoder_id,
            **asdict(self.recording),
        }


class VoiceEncoder:
    """The resident speaker encoder, on one device."""

    def __init__(
        self,
        encoder: SpeakerEncoder,
        *,
        device: torch.device,
        encoder_id: str,
        weights: dict[str, Any] | None = None,
    ) -> None:
        """`encoder_id`: identity of its weights (tags each Voice); `weights`: what it was
        loaded from (for `describe`)."""
        self.encoder = encoder.to(device).eval()
        self.device = device
        self.encoder_id = encoder_id
        self.weights = dict(weights or {})

    @property
    def signal(self) -> dsp.EncoderSignal:
        return self.encoder.config.signal

    def describe(self) -> dict[str, Any]:
        return {"device": str(self.device), "encoder_id": self.encoder_id, **self.weights}

    def embed(
        self,
        wav: np.ndarray,
        sample_rate: int = 16000,
        *,
        limits: RecordingLimits | None = RecordingLimits(),
    ) -> Voice:
        """The voice of a recording: mono samples at `sample_rate`.

        Raises RecordingError when the recording fails `limits` (None: no check).
        """
        wav = dsp.as_float32_mono(wav)
        stats = measure_recording(wav, sample_rate, self.signal)
        problem = recording_problem(stats, limits) if limits is not None else None
        if problem is not None:
            raise problem
        return Voice(self.embedding(wav, sample_rate), self.encoder_id, stats)

    def likeness(self, wav: np.ndarray, sample_rate: int, voice: Vector) -> float:
        """How much `wav` sounds like `voice`, as the speaker encoder hears it: the cosine
        similarity of the embedding of `wav` (embedded again, as a recording would be) to
        `voice`'s. On ../shared/audio: 0.93-0.97 for either half of the recording a voice was
        made from, 0.50-0.70 for another speaker's recording, and 0.49 for white noise (so a
        figure, not a speech detector); 0.0 when `wav` holds nothing the encoder can embed.
        """
        try:
            embedding = self.embedding(wav, sample_rate)
        except (RecordingError, ValueError):  # no speech found, or an all-zero embedding
            return 0.0
        return cosine_similarity(embedding, voice)

    def embedding(self, wav: np.ndarray, sample_rate: int) -> np.ndarray:
        """The (256,) unit vector of the speech in `wav`, with no checks on the recording
        (RecordingError "silent" if the voice-activity detection keeps nothing)."""
        speech = dsp.preprocess_wav(wav, sample_rate, self.signal)
        if speech.size == 0:
            raise RecordingError("silent", "no speech found")
        with torch.inference_mode():
            vector, _ = self.encoder.embed_utterance(speech)
        return vector
