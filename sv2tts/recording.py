"""A user's recording: what it measures, and whether it can give a usable voice.

    stats = measure_recording(wav, sample_rate)        # RecordingStats
    problem = recording_problem(stats, RecordingLimits())   # RecordingError or None

`RecordingStats` (sv2tts/measures.py) is the one type for these measurements: the engine's
`Voice` carries it as it is, the worker's answer to the bot too, and the bot stores it.
Torch-free (NumPy, librosa, webrtcvad).

Telling speech from noise, tones and music: webrtcvad alone cannot (it keeps all of six
seconds of white noise, a sine tone or a melody as "speech"), nor can the encoder's own
consistency between partial embeddings (higher on noise and tones than on speech), nor the
spread of the frames' energy (drums and plucked notes rise and fall as speech does). What
sets speech apart is
intonation: speech is voiced most of the time, and while voiced its pitch glides, moving
by more than 0.05 semitone every 10 ms (5 semitones a second) in most frames; noise has no
pitch at all, and a tone or an instrument holds each note's pitch steady, changing it in
jumps. `intonation_share` is the share of the detected speech's 10 ms steps that are voiced
(normalised autocorrelation of at least 0.7 at a lag of 2-16.7 ms, i.e. 60-500 Hz) with
such a glide. On the project's six real recordings it is 0.29-0.58 (at least 0.22 on any
2.5 s piece of them, 0.21 with white noise 10 dB under the speech); on noise, tones, drums
and melodies at most 0.05 (the corpus of tests/fakes/hostile_audio.py; README, "Bad
input", has the numbers). The threshold, 0.12, sits between the two with a margin of more
than twice on either side. It refuses a voice about as loud as the noise or music around
it (0.12-0.25 at 5 dB), and lets through what glides like speech without being speech (a
siren, a violin's vibrato): limits the voice encoder would also suffer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from sv2tts import dsp
from sv2tts.errors import RecordingError
from sv2tts.measures import RecordingStats

CLIP_LEVEL = 0.999  # a sample at or above this magnitude counts as clipped

# The pitch tracker: 40 ms frames every 10 ms, fundamental between 60 and 500 Hz.
PITCH_FRAME_SECONDS = 0.04
PITCH_HOP_SECONDS = 0.01
PITCH_RANGE_HZ = (60.0, 500.0)
VOICED_CORRELATION = 0.7  # normalised autocorrelation at the period: a voiced frame
GLIDE_SEMITONES = 0.05  # pitch change per hop that counts as intonation, not a held note
MAX_STEP_SEMITONES = 1.5  # larger changes are a new note or an octave error, not a glide


@dataclass(frozen=True, slots=True)
class RecordingLimits:
    """What a recording must measure to give a usable voice."""

    min_speech_seconds: float = 2.0
    silent_dbfs: float = -55.0  # speech quieter than this is taken for silence or hum
    max_clipped_fraction: float = 0.01  # more samples at full scale: heavy clipping
    min_intonation_share: float = 0.12  # less: noise, a tone or music, not speech


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
    raised = dsp.normalize_volume(raw, signal.target_dbfs)
    mask = dsp.voice_mask(raised, signal)
    speech = raw[: mask.size][mask]
    return RecordingStats(
        total_seconds=total_seconds,
        speech_seconds=len(speech) / signal.sample_rate,
        level_dbfs=dsp.rms_dbfs(speech),
        clipped_fraction=clipped,
        intonation_share=intonation_share(raised[: mask.size][mask], signal.sample_rate),
    )


def pitch_track(wav: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """(pitch in Hz, periodicity in [-1, 1]) of each 40 ms frame, every 10 ms.

    The periodicity is the normalised cross-correlation of the frame with itself one lag
    later (as in RAPT), at its best lag within PITCH_RANGE_HZ; the pitch is that lag,
    refined by a parabola through its neighbours. Empty arrays for a signal shorter than one
    frame plus the longest lag.
    """
    frame = round(PITCH_FRAME_SECONDS * sr)
    hop = round(PITCH_HOP_SECONDS * sr)
    shortest, longest = (round(sr / f) for f in reversed(PITCH_RANGE_HZ))
    wav = np.asarray(wav, dtype=np.float64)
    if len(wav) < frame + longest:
        return np.zeros(0), np.zeros(0)
    spans = sliding_window_view(wav, frame + longest)[::hop]  # (frames, frame + longest)
    heads = spans[:, :frame]
    size = 1 << int(np.ceil(np.log2(frame + longest + frame)))
    cross = np.fft.irfft(np.conj(np.fft.rfft(heads, size)) * np.fft.rfft(spans, size), size)
    lags = np.arange(shortest, longest + 1)
    cross = cross[:, lags]
    # Energy of the frame and of the lagged frame at each lag, from running sums.
    running = np.concatenate([np.zeros((len(spans), 1)), np.cumsum(spans**2, axis=1)], axis=1)
    energy = np.sum(heads**2, axis=1, keepdims=True) * (running[:, lags + frame] - running[:, lags])
    ncc = cross / np.sqrt(np.maximum(energy, 1e-20))
    rows = np.arange(len(ncc))
    best = np.argmax(ncc, axis=1)
    inner = np.clip(best, 1, len(lags) - 2)
    left, centre, right = ncc[rows, inner - 1], ncc[rows, inner], ncc[rows, inner + 1]
    curvature = left - 2 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    offset = np.where(inner == best, np.clip(offset, -1.0, 1.0), 0.0)
    return sr / (lags[best] + offset), ncc[rows, best]


def intonation_share(speech: np.ndarray, sr: int) -> float:
    """Share of the 10 ms steps of `speech` that are voiced with a gliding pitch (see the
    module's docstring); 0.0 for a signal too short to track."""
    pitch, periodicity = pitch_track(speech, sr)
    if pitch.size < 2:
        return 0.0
    voiced = periodicity >= VOICED_CORRELATION
    steps = np.abs(np.diff(12.0 * np.log2(pitch)))
    gliding = voiced[1:] & voiced[:-1] & (steps > GLIDE_SEMITONES) & (steps < MAX_STEP_SEMITONES)
    return float(np.mean(gliding))


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
    if stats.intonation_share < limits.min_intonation_share:
        return RecordingError(
            "no_speech",
            f"{stats.intonation_share:.0%} of the sound is voiced with the pitch movement "
            f"of speech, at least {limits.min_intonation_share:.0%} is needed",
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
