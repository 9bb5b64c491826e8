"""Signal processing for SV2TTS: pure functions over NumPy arrays.

Two front ends share this module:

- the speaker encoder's (`EncoderSignal`): resample to 16 kHz, raise the level to -30 dBFS,
  drop long silences with webrtcvad, then a 40-band *power* mel spectrogram (25 ms / 10 ms);
- the synthesizer's and vocoder's (`SynthSignal`): pre-emphasis, an 80-band *magnitude* mel
  spectrogram in dB normalised to [-4, 4], and its Griffin-Lim inversion.

Plus the finishing touches for synthesized output (loudness, trailing silence); what a user's
recording measures is `sv2tts.audio.recording`, built on these. Every librosa call uses keyword
arguments: its positional signatures changed between releases and broke the reference
implementation.

The public functions, all taking and returning float32 arrays (mono, samples in [-1, 1]):

- `resample(wav, orig_sr, target_sr) -> np.ndarray`
- `normalize_volume(wav, target_dbfs, increase_only=True) -> np.ndarray`
- `voice_mask(wav16k, signal) -> np.ndarray[bool]` and `trim_long_silences(wav16k, signal)`
- `preprocess_wav(wav, sr, signal) -> np.ndarray`: the encoder's input, 16 kHz
- `encoder_melspectrogram(wav16k, signal) -> np.ndarray (frames, 40)`
- `melspectrogram(wav16k, synth) -> np.ndarray (80, frames)` in [-4, 4]
- `griffin_lim(mel, synth, seed) -> np.ndarray`
- `preemphasize(wav, c)`, `deemphasize(wav, c)`: the filter and its inverse
- `rescale_peak(wav, peak=0.9)`, `normalize_loudness(wav, ...)`, `trim_trailing_silence(wav, sr)`
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import librosa
import numpy as np
import webrtcvad
from scipy.signal import lfilter

log = logging.getLogger(__name__)

INT16_MAX = 2**15 - 1
SILENCE_DBFS = -120.0  # reported level of digital silence, where log10(0) has no value
VAD_SAMPLE_RATES = (8000, 16000, 32000, 48000)


@dataclass(frozen=True, slots=True)
class EncoderSignal:
    """The speaker encoder's front end, as its published weights were trained with."""

    sample_rate: int = 16000
    n_mels: int = 40
    window_ms: int = 25
    hop_ms: int = 10
    target_dbfs: float = -30.0
    vad_window_ms: int = 30
    vad_mode: int = 3  # webrtcvad's most aggressive setting
    vad_average_windows: int = 8  # width of the moving average over per-window decisions
    vad_dilation_windows: int = 7  # width of the dilation of the smoothed mask (±3 windows)

    @property
    def n_fft(self) -> int:
        return self.sample_rate * self.window_ms // 1000

    @property
    def hop_length(self) -> int:
        return self.sample_rate * self.hop_ms // 1000

    @property
    def vad_window(self) -> int:
        return self.sample_rate * self.vad_window_ms // 1000


@dataclass(frozen=True, slots=True)
class SynthSignal:
    """The synthesizer's and vocoder's spectrogram settings."""

    sample_rate: int = 16000
    n_fft: int = 800
    hop_length: int = 200
    win_length: int = 800
    n_mels: int = 80
    fmin: float = 55.0
    fmax: float = 7600.0
    preemphasis: float = 0.97
    ref_level_db: float = 20.0
    min_level_db: float = -100.0
    max_abs_value: float = 4.0
    griffin_lim_power: float = 1.5
    griffin_lim_iters: int = 60
    # Fast Griffin-Lim (librosa's default momentum) converges to fewer phase artefacts in the
    # same 60 iterations than the plain algorithm (momentum 0).
    griffin_lim_momentum: float = 0.99


def as_float32_mono(wav: np.ndarray) -> np.ndarray:
    """`wav` as a contiguous 1-D float32 array; refuses anything but one channel."""
    wav = np.asarray(wav)
    if wav.ndim != 1:
        raise ValueError(f"expected a mono waveform (1-D), got shape {wav.shape}")
    return np.ascontiguousarray(wav, dtype=np.float32)


def resample(wav: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """`wav` at `target_sr` (soxr, high quality, as librosa's default)."""
    wav = as_float32_mono(wav)
    if orig_sr == target_sr:
        return wav
    out = librosa.resample(y=wav, orig_sr=orig_sr, target_sr=target_sr, res_type="soxr_hq")
    return np.ascontiguousarray(out, dtype=np.float32)


def rms_dbfs(wav: np.ndarray) -> float:
    """RMS level in dB re full scale (1.0); SILENCE_DBFS for an empty or all-zero signal."""
    if wav.size == 0:
        return SILENCE_DBFS
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64))))
    if rms <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, float(20.0 * np.log10(rms)))


def normalize_volume(
    wav: np.ndarray, target_dbfs: float, *, increase_only: bool = True
) -> np.ndarray:
    """`wav` scaled to an RMS of `target_dbfs`; with `increase_only`, never made quieter."""
    wav = as_float32_mono(wav)
    level = rms_dbfs(wav)
    if level <= SILENCE_DBFS:
        return wav
    change_db = target_dbfs - level
    if change_db < 0 and increase_only:
        return wav
    return (wav * np.float32(10.0 ** (change_db / 20.0))).astype(np.float32)


def _vad_window_flags(wav: np.ndarray, signal: EncoderSignal) -> np.ndarray:
    """webrtcvad's speech decision (0. or 1.) for each whole window of `wav`."""
    window = signal.vad_window
    n_windows = len(wav) // window
    pcm = np.round(np.clip(wav[: n_windows * window], -1.0, 1.0) * INT16_MAX).astype("<i2")
    vad = webrtcvad.Vad(signal.vad_mode)
    flags = np.empty(n_windows, dtype=np.float64)
    for i in range(n_windows):
        chunk = pcm[i * window : (i + 1) * window].tobytes()
        flags[i] = vad.is_speech(chunk, signal.sample_rate)
    return flags


def _smoothed_mask(flags: np.ndarray, signal: EncoderSignal) -> np.ndarray:
    """Per-window speech mask: moving average, rounded, then dilated over short gaps."""
    width = signal.vad_average_windows
    # The average for window i covers windows i-(w-1)//2 .. i+w//2, zeros beyond the ends;
    # this alignment reproduces the reference encoder's masks window for window.
    padded = np.concatenate([np.zeros((width - 1) // 2), flags, np.zeros(width // 2)])
    average = np.convolve(padded, np.ones(width) / width, mode="valid")
    # np.round rounds halves to even, so an average of exactly 0.5 is silence.
    mask = np.round(average) > 0
    # The dilation is numpy's "same" convolution, cut so that it also keeps the mask's
    # length when there are fewer windows than the dilation is wide ("same" would return the
    # kernel's length: a mask longer than the recording).
    dilation = signal.vad_dilation_windows
    full = np.convolve(mask.astype(np.float64), np.ones(dilation), mode="full")
    start = (dilation - 1) // 2
    return full[start : start + mask.size] > 0.5


def voice_mask(wav: np.ndarray, signal: EncoderSignal = EncoderSignal()) -> np.ndarray:
    """Per-sample boolean mask of the speech that webrtcvad keeps, one entry per sample
    of `wav` truncated to whole VAD windows."""
    wav = as_float32_mono(wav)
    if signal.sample_rate not in VAD_SAMPLE_RATES:
        raise ValueError(f"webrtcvad needs one of {VAD_SAMPLE_RATES} Hz, not {signal.sample_rate}")
    flags = _vad_window_flags(wav, signal)
    if flags.size == 0:
        return np.zeros(0, dtype=bool)
    return np.repeat(_smoothed_mask(flags, signal), signal.vad_window)


def trim_long_silences(wav: np.ndarray, signal: EncoderSignal = EncoderSignal()) -> np.ndarray:
    """`wav` (at `signal.sample_rate`) without its long silences."""
    wav = as_float32_mono(wav)
    mask = voice_mask(wav, signal)
    return wav[: mask.size][mask]


def preprocess_wav(wav: np.ndarray, sr: int, signal: EncoderSignal = EncoderSignal()) -> np.ndarray:
    """The speaker encoder's input: resampled, raised to -30 dBFS, long silences dropped."""
    wav = resample(wav, sr, signal.sample_rate)
    wav = normalize_volume(wav, signal.target_dbfs, increase_only=True)
    return trim_long_silences(wav, signal)


def encoder_melspectrogram(wav: np.ndarray, signal: EncoderSignal = EncoderSignal()) -> np.ndarray:
    """The encoder's 40-band power mel spectrogram, shape (frames, n_mels), float32."""
    mel = librosa.feature.melspectrogram(
        y=as_float32_mono(wav),
        sr=signal.sample_rate,
        n_fft=signal.n_fft,
        hop_length=signal.hop_length,
        n_mels=signal.n_mels,
    )
    return np.ascontiguousarray(mel.T, dtype=np.float32)


# --- synthesizer side ---------------------------------------------------------------------


@lru_cache(maxsize=4)
def mel_basis(synth: SynthSignal) -> np.ndarray:
    """Slaney-normalised mel filters, shape (n_mels, 1 + n_fft // 2)."""
    basis = librosa.filters.mel(
        sr=synth.sample_rate,
        n_fft=synth.n_fft,
        n_mels=synth.n_mels,
        fmin=synth.fmin,
        fmax=synth.fmax,
    )
    basis.setflags(write=False)  # cached and shared: nobody may change it in place
    return basis


@lru_cache(maxsize=4)
def _inverse_mel_basis(synth: SynthSignal) -> np.ndarray:
    inverse = np.linalg.pinv(mel_basis(synth))
    inverse.setflags(write=False)
    return inverse


def preemphasize(wav: np.ndarray, coefficient: float) -> np.ndarray:
    """y[n] = x[n] - c·x[n-1], with y[0] = x[0]."""
    wav = as_float32_mono(wav)
    out = wav.copy()
    out[1:] -= np.float32(coefficient) * wav[:-1]
    return out


def deemphasize(wav: np.ndarray, coefficient: float) -> np.ndarray:
    """The inverse of `preemphasize`: y[n] = x[n] + c·y[n-1], as float32.

    The recursion runs in float64: its pole near 1 would accumulate float32 rounding.
    """
    wav = np.asarray(wav, dtype=np.float64)
    if wav.ndim != 1:
        raise ValueError(f"expected a mono waveform (1-D), got shape {wav.shape}")
    return lfilter([1.0], [1.0, -coefficient], wav).astype(np.float32)


def _stft(wav: np.ndarray, synth: SynthSignal) -> np.ndarray:
    return librosa.stft(
        y=wav, n_fft=synth.n_fft, hop_length=synth.hop_length, win_length=synth.win_length
    )


def _normalize_db(db: np.ndarray, synth: SynthSignal) -> np.ndarray:
    scaled = 2 * synth.max_abs_value * (db - synth.min_level_db) / -synth.min_level_db
    return np.clip(scaled - synth.max_abs_value, -synth.max_abs_value, synth.max_abs_value)


def _denormalize_db(mel: np.ndarray, synth: SynthSignal) -> np.ndarray:
    clipped = np.clip(mel, -synth.max_abs_value, synth.max_abs_value)
    unit = (clipped + synth.max_abs_value) / (2 * synth.max_abs_value)
    return unit * -synth.min_level_db + synth.min_level_db


def melspectrogram(wav: np.ndarray, synth: SynthSignal = SynthSignal()) -> np.ndarray:
    """The synthesizer's mel spectrogram, shape (n_mels, frames), float32 in [-4, 4]."""
    spectrum = np.abs(_stft(preemphasize(wav, synth.preemphasis), synth))
    mel = mel_basis(synth) @ spectrum
    db = 20.0 * np.log10(np.maximum(1e-5, mel)) - synth.ref_level_db
    return _normalize_db(db, synth).astype(np.float32)


def griffin_lim(mel: np.ndarray, synth: SynthSignal = SynthSignal(), seed: int = 0) -> np.ndarray:
    """A waveform whose `melspectrogram` approximates `mel` (n_mels, frames), by Griffin-Lim."""
    mel = np.asarray(mel, dtype=np.float64)
    if mel.ndim != 2 or mel.shape[0] != synth.n_mels:
        raise ValueError(
            f"expected a mel spectrogram of shape ({synth.n_mels}, T), got {mel.shape}"
        )
    amplitude = 10.0 ** ((_denormalize_db(mel, synth) + synth.ref_level_db) / 20.0)
    linear = np.maximum(1e-10, _inverse_mel_basis(synth) @ amplitude)
    wav = librosa.griffinlim(
        S=linear**synth.griffin_lim_power,
        n_iter=synth.griffin_lim_iters,
        hop_length=synth.hop_length,
        win_length=synth.win_length,
        n_fft=synth.n_fft,
        momentum=synth.griffin_lim_momentum,
        init="random",
        random_state=seed,
    )
    return deemphasize(wav.astype(np.float32), synth.preemphasis)


def rescale_peak(wav: np.ndarray, peak: float = 0.9) -> np.ndarray:
    """`wav` scaled so that its largest magnitude is `peak` (unchanged if all zero)."""
    wav = as_float32_mono(wav)
    top = float(np.max(np.abs(wav))) if wav.size else 0.0
    if top <= 0.0:
        return wav
    return (wav * np.float32(peak / top)).astype(np.float32)


def normalize_loudness(
    wav: np.ndarray,
    target_dbfs: float = -20.0,
    *,
    peak: float = 0.95,
    max_gain_db: float = 30.0,
) -> np.ndarray:
    """Synthesized speech brought to an RMS of `target_dbfs`, its peaks kept under `peak`.

    The gain is capped at `max_gain_db` so that a near-silent output (a failed synthesis)
    is not blown up into loud noise.
    """
    wav = as_float32_mono(wav)
    level = rms_dbfs(wav)
    if level <= SILENCE_DBFS:
        return wav
    gain = 10.0 ** (min(target_dbfs - level, max_gain_db) / 20.0)
    top = float(np.max(np.abs(wav))) * gain
    if top > peak:
        gain *= peak / top
    return (wav * np.float32(gain)).astype(np.float32)


def trim_trailing_silence(
    wav: np.ndarray,
    sr: int,
    *,
    threshold_db: float = -40.0,
    frame_ms: float = 10.0,
    keep_ms: float = 150.0,
) -> np.ndarray:
    """`wav` cut after its last frame louder than `threshold_db` below its peak frame, with
    `keep_ms` of what follows kept so that the last word decays naturally."""
    wav = as_float32_mono(wav)
    frame = max(1, int(sr * frame_ms / 1000))
    n_frames = -(-len(wav) // frame)
    if n_frames == 0:
        return wav
    padded = np.zeros(n_frames * frame, dtype=np.float32)
    padded[: len(wav)] = wav
    energy = np.sqrt(np.mean(np.square(padded.reshape(n_frames, frame)), axis=1))
    top = float(energy.max())
    if top <= 0.0:
        return wav[:0]
    loud = np.flatnonzero(energy >= top * 10.0 ** (threshold_db / 20.0))
    end = (int(loud[-1]) + 1) * frame + int(sr * keep_ms / 1000)
    return wav[: min(end, len(wav))]
