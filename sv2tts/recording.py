"""A user's recording: what it measures, and whether it can give a usable voice.

    stats = measure_recording(wav, sample_rate)        # RecordingStats
    problem = recording_problem(stats, RecordingLimits())   # RecordingError or None

`RecordingStats` is the one type for these measurements: the engine's `Voice` carries it as
it is, and the app stores and shows its fields. Torch-free (NumPy, librosa, webrtcvad).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sv2tts import dsp
from sv2tts.errors import RecordingError

CLIP_LEVEL = 0.999  # a sample at or above this magnitude counts as clipped


@dataclass(frozen=True, slots=True)
class RecordingStats:
    """What a user's recording measured, before any processing."""

    total_seconds: float  # decoded duration
    speech_seconds: float  # what the voice-activity detection kept
    level_dbfs: float  # RMS level of the kept speech, re full scale (dsp.SILENCE_DBFS if none)
    clipped_fraction: float  # share of all samples at |x| >= CLIP_LEVEL


@dataclass(frozen=True, slots=True)
class RecordingLimits:
    """What a recording must measure to give a usable voice."""

    min_speech_seconds: float = 2.0
    silent_dbfs: float = -55.0  # speech quieter than this is taken for silence or hum
    max_clipped_fraction: float = 0.01  # more samples at full scale: heavy clipping


def measure_recording(
    wav: np.ndarray, sr: int, signal: dsp.EncoderSignal = dsp.EncoderSignal()
) -> RecordingStats:
    """Duration, speech duration, speech level and clipping of a raw decoded recording.

    Speech is found as the encoder finds it (after the level is raised), but the level and
    the clipping are measured on the samples as received.
    """
    raw = dsp.resample(wav, sr, signal.sample_rate)
    total_seconds = len(raw) / signal.sample_rate
    clipped = float(np.mean(np.abs(raw) >= CLIP_LEVEL)) if raw.size else 0.0
    mask = dsp.voice_mask(dsp.normalize_volume(raw, signal.target_dbfs), signal)
    speech = raw[: mask.size][mask]
    return RecordingStats(
        total_seconds=total_seconds,
        speech_seconds=len(speech) / signal.sample_rate,
        level_dbfs=dsp.rms_dbfs(speech),
        clipped_fraction=clipped,
    )


def recording_problem(stats: RecordingStats, limits: RecordingLimits) -> RecordingError | None:
    """Why a recording that measured `stats` is unusable, or None. Silence is reported
    before clipping, clipping before shortness: the first is what the user must fix."""
    if stats.speech_seconds <= 0 or stats.level_dbfs < limits.silent_dbfs:
        return RecordingError(
            "silent",
            f"{stats.speech_seconds:.2f} s of speech at {stats.level_dbfs:.1f} dBFS",
        )
    if stats.clipped_fraction > limits.max_clipped_fraction:
        return RecordingError(
            "clipped", f"{stats.clipped_fraction:.1%} of the samples are at full scale"
        )
    if stats.speech_seconds < limits.min_speech_seconds:
        return RecordingError(
            "too_short",
            f"{stats.speech_seconds:.2f} s of speech, at least "
            f"{limits.min_speech_seconds:g} s are needed",
        )
    return None
