"""A trained speech detector: how much of a sound is someone speaking.

    share = speech_share(samples_16k)          # 0..1, loads the detector on first use

The detector is Silero VAD (the `silero-vad` wheel, MIT licence, its TorchScript model
inside the wheel: no download). It is fed a tensor, so it needs no torchaudio. It is loaded
once per process, lazily, by the first recording measured (in the worker; the bot never
measures recordings and never imports this module). The model keeps a recurrent state
between windows, reset by `get_speech_timestamps` at every call: one call at a time per
process, which is how a worker runs jobs.

Why a trained detector and not a signal measure: webrtcvad (which the speaker encoder's
reference path uses to trim silence, and still does) keeps all of six seconds of white
noise, a tone or a melody as "speech"; an intonation measure (voiced frames with a gliding
pitch) refused real low and creaky voices as "no speech". README, "Bad input", has the
figures that chose `sv2tts.audio.recording.RecordingLimits.min_speech_share`.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000  # the detector's rate (it also takes 8 kHz; we always feed it 16 kHz)


class SpeechDetector:
    """Silero VAD behind one question: which samples are speech."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def speech_mask(self, wav: np.ndarray) -> np.ndarray:
        """A boolean per sample of 16 kHz mono `wav`: inside a stretch the detector calls
        speech (its defaults: 0.5 probability, speech of 250 ms or more, 30 ms of padding)."""
        import torch
        from silero_vad import get_speech_timestamps

        mask = np.zeros(len(wav), dtype=bool)
        if len(wav) == 0:
            return mask
        samples = torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32))
        with torch.inference_mode():
            stretches = get_speech_timestamps(samples, self._model, sampling_rate=SAMPLE_RATE)
        for stretch in stretches:
            mask[int(stretch["start"]) : int(stretch["end"])] = True
        return mask


@functools.cache
def resident_speech_detector() -> SpeechDetector:
    """The process's detector, loaded on first use (about a second, 2 MB)."""
    from silero_vad import load_silero_vad

    detector = SpeechDetector(load_silero_vad())
    log.info("speech detector loaded (Silero VAD)")
    return detector
