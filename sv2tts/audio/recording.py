"""A user's recording: what it measures, and whether it can give a usable voice.

    stats = measure_recording(wav, sample_rate)        # RecordingStats
    problem = recording_problem(stats, RecordingLimits())   # RecordingError or None

`RecordingStats` (sv2tts/audio/measures.py) is the one type for these measurements: the engine's
`Voice` carries it as it is, the worker's answer to the bot too, and the bot stores it.

Telling speech from noise, tones and music: webrtcvad alone cannot (it keeps all of six
seconds of white noise, a sine tone or a melody as "speech"), nor can the encoder's own
consistency between partial embeddings, nor the spread of the frames' energy, and an earlier
intonation measure (voiced frames with a gliding pitch) refused real low-voiced speakers. A
trained detector does it (sv2tts/audio/speech_detector.py, Silero VAD): `speech_share` is the share
of what webrtcvad kept that the detector also calls speech, found on the level-raised
samples so that a quiet voice counts as a loud one. On the project's six real recordings it
is 0.96-0.99, and 0.27-0.99 pitched down 7 semitones, 0.56-0.99 pitched down 5, band-limited
to a phone's 300-3400 Hz at 8 kHz and 25 dB quieter at once; on white and pink noise, a tone,
music, a melody and drums 0.00 (README, "Bad input", has every figure). Refused below 0.15.
The speech detector needs torch, loaded when the first recording is measured; this module
itself imports none (NumPy, librosa, webrtcvad).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sv2tts.audio import dsp
from sv2tts.audio.measures import RecordingStats
from sv2tts.errors import RecordingError

CLIP_LEVEL = 0.999  # a sample at or above this magnitude counts as clipped

# 16 kHz samples in, a boolean per sample out: True where someone speaks.
SpeechMask = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, slots=True)
class RecordingLimits:
    """What a recording must measure to give a usable voice."""

    min_speech_seconds: float = 2.0
    silent_dbfs: float = -55.0  # speech quieter than this is taken for silence or hum
    max_clipped_fraction: float = 0.01  # more samples at full scale: heavy clipping
    min_speech_share: float = 0.15  # less: noise, a tone or music, not speech


def measure_recording(
    wav: np.ndarray,
    sr: int,
    signal: dsp.EncoderSignal = dsp.EncoderSignal(),
    speech_mask: SpeechMask | None = None,
) -> RecordingStats:
    """Duration, speech duration, speech level, clipping and speech share of a raw decoded
    recording.

    Speech is found as the encoder finds it (after the level is raised), but the level and
    the clipping are measured on the samples as received. `speech_mask`: the trained speech
    detector (None: the process's own, sv2tts.audio.speech_detector, loaded on first use).
    """
    raw = dsp.resample(wav, sr, signal.sample_rate)
    total_seconds = len(raw) / signal.sample_rate
    clipped = float(np.mean(np.abs(raw) >= CLIP_LEVEL)) if raw.size else 0.0
    raised = dsp.normalize_volume(raw, signal.target_dbfs)
    mask = dsp.voice_mask(raised, signal)
    speech = raw[: mask.size][mask]
    return RecordingStats(
        total_seconds=total_seconds,
        speech_seconds=len(speech) / signal.sample_rate,
        level_dbfs=dsp.rms_dbfs(speech),
        clipped_fraction=clipped,
        speech_share=speech_share(raised, mask, speech_mask),
    )


def speech_share(raised: np.ndarray, kept: np.ndarray, speech_mask: SpeechMask | None) -> float:
    """Share of the samples webrtcvad `kept` that the trained detector calls speech, on the
    level-raised 16 kHz samples; 0.0 when nothing was kept."""
    if not kept.any():
        return 0.0
    if speech_mask is None:
        from sv2tts.audio.speech_detector import resident_speech_detector

        speech_mask = resident_speech_detector().speech_mask
    found = speech_mask(raised)
    return float(np.mean(found[: kept.size][kept]))


def recording_problem(stats: RecordingStats, limits: RecordingLimits) -> RecordingError | None:
    """Why a recording that measured `stats` is unusable, or None.

    In the order the user must fix them: a recording shorter than the speech it must hold
    is too short whatever it holds; then silence, clipping, no speech (noise, a tone,
    music), too little speech.
    """
    if stats.total_seconds < limits.min_speech_seconds:
        return RecordingError(
            "too_short",
            f"the recording lasts {stats.total_seconds:.2f} s, at least "
            f"{limits.min_speech_seconds:g} s of speech are needed",
            stats,
        )
    if stats.speech_seconds <= 0 or stats.level_dbfs < limits.silent_dbfs:
        return RecordingError(
            "silent",
            f"{stats.speech_seconds:.2f} s of speech at {stats.level_dbfs:.1f} dBFS",
            stats,
        )
    if stats.clipped_fraction > limits.max_clipped_fraction:
        return RecordingError(
            "clipped", f"{stats.clipped_fraction:.1%} of the samples are at full scale", stats
        )
    if stats.speech_share < limits.min_speech_share:
        return RecordingError(
            "no_speech",
            f"the speech detector heard speech in {stats.speech_share:.0%} of the sound, "
            f"at least {limits.min_speech_share:.0%} is needed",
            stats,
        )
    if stats.speech_seconds < limits.min_speech_seconds:
        return RecordingError(
            "too_short",
            f"{stats.speech_seconds:.2f} s of speech, at least "
            f"{limits.min_speech_seconds:g} s are needed",
            stats,
        )
    return None
