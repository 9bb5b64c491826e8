"""What a recording measures (duration, speech, level, clipping) and which problem it has."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sv2tts.audio import dsp
from sv2tts.audio.codec import decode_audio
from sv2tts.audio.recording import CLIP_LEVEL, measure_recording

SR = 16000


@pytest.fixture(scope="module")
def speech(audio_dir: Path) -> np.ndarray:
    return decode_audio(audio_dir / "1320_00000.mp3")


def tone(seconds: float, amplitude: float, frequency: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def test_measure_recording_reports_speech_and_level(speech: np.ndarray) -> None:
    quiet = speech * np.float32(0.1)
    wav = np.concatenate([np.zeros(SR * 3, np.float32), quiet])

    stats = measure_recording(wav, SR)

    assert stats.total_seconds == pytest.approx(len(wav) / SR)
    assert 3.5 < stats.speech_seconds < len(speech) / SR + 0.25
    speech_level = dsp.rms_dbfs(dsp.trim_long_silences(dsp.normalize_volume(speech, -30.0)))
    # The level is that of the speech as received (20 dB under the loud copy), not raised.
    assert stats.level_dbfs == pytest.approx(speech_level - 20.0, abs=1.5)
    assert stats.clipped_fraction == 0.0


def test_measure_recording_counts_clipped_samples() -> None:
    wav = np.clip(tone(1.0, 2.0), -1.0, 1.0)

    stats = measure_recording(wav, SR)

    expected = float(np.mean(np.abs(wav) >= CLIP_LEVEL))
    assert stats.clipped_fraction == pytest.approx(expected)
    assert stats.clipped_fraction > 0.5


def test_measure_recording_of_silence_finds_no_speech() -> None:
    stats = measure_recording(np.zeros(SR * 2, np.float32), SR)

    assert stats.speech_seconds == 0.0
    assert stats.level_dbfs == dsp.SILENCE_DBFS


def test_measure_recording_resamples_other_rates(speech: np.ndarray) -> None:
    stats = measure_recording(dsp.resample(speech, SR, 48000), 48000)

    assert stats.total_seconds == pytest.approx(len(speech) / SR, abs=0.01)


@pytest.mark.parametrize("seconds", [0.0001, 0.03, 0.05, 0.1, 0.2, 0.21, 0.25])
def test_recordings_under_a_quarter_second_are_measured_not_crashed_on(seconds: float) -> None:
    wav = tone(seconds, 0.5)
    mask = dsp.voice_mask(dsp.normalize_volume(wav, -30.0))
    assert mask.size <= wav.size

    stats = measure_recording(wav, SR)

    assert stats.total_seconds == pytest.approx(seconds, abs=1 / SR)
    assert 0.0 <= stats.speech_seconds <= stats.total_seconds


def test_the_speech_detector_hears_speech_and_not_a_tone_or_noise(speech: np.ndarray) -> None:
    noise = np.random.default_rng(2).standard_normal(len(speech)).astype(np.float32) * 0.1
    assert measure_recording(speech, SR).speech_share > 0.9
    assert measure_recording(tone(5.0, 0.5), SR).speech_share < 0.05
    assert measure_recording(noise, SR).speech_share < 0.05


def test_the_speech_share_is_of_what_webrtcvad_kept_as_the_detector_marks_it() -> None:
    wav = np.random.default_rng(3).standard_normal(4 * SR).astype(np.float32) * 0.1
    first_half = np.arange(len(wav)) < len(wav) // 2
    stats = measure_recording(wav, SR, speech_mask=lambda raised: first_half[: len(raised)])
    assert stats.speech_seconds > 3.5  # webrtcvad keeps noise
    assert stats.speech_share == pytest.approx(0.5, abs=0.05)
    assert (
        measure_recording(np.zeros(SR, np.float32), SR, speech_mask=np.ones_like).speech_share == 0
    )
