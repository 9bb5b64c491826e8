"""Signal processing: reference spectrograms, the encoder's preprocessing, measurements."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sv2tts.audio import dsp
from sv2tts.audio.codec import decode_audio

SR = 16000
# Files recorded at 16 kHz: their preprocessing involves no resampler, so ours must give the
# reference's samples exactly (up to MP3 decoder rounding), VAD decisions included.
NATIVE_16K = ("1320_00000", "3575_00000", "6829_00000", "8230_00000")


@pytest.fixture(scope="module")
def encoder_reference(reference_dir: Path) -> dict[str, np.ndarray]:
    with np.load(reference_dir / "encoder_reference.npz") as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def dsp_reference(reference_dir: Path) -> dict[str, np.ndarray]:
    with np.load(reference_dir / "dsp_reference.npz") as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def speech(audio_dir: Path) -> np.ndarray:
    return decode_audio(audio_dir / "1320_00000.mp3")


def tone(seconds: float, amplitude: float, frequency: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


# --- synthesizer side -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["1320_00000", "3575_00000"])
def test_synthesizer_mel_matches_reference(dsp_reference: dict[str, np.ndarray], name: str) -> None:
    mel = dsp.melspectrogram(dsp_reference[f"{name}__wav"])

    expected = dsp_reference[f"{name}__mel"]
    assert mel.shape == expected.shape
    assert mel.dtype == np.float32
    # 1e-3 on the [-4, 4] scale is 0.0125 dB: far below audible, far above float32 noise
    # (measured: about 2e-5), and it still fails on a wrong padding mode, filter bank,
    # pre-emphasis or dB reference.
    assert np.abs(mel - expected).max() < 1e-3


def test_synthesizer_mel_is_clipped_to_its_range() -> None:
    mel = dsp.melspectrogram(np.concatenate([np.zeros(4000, np.float32), tone(0.5, 0.99)]))

    assert mel.min() == pytest.approx(-4.0)  # silence sits on the floor
    assert mel.max() <= 4.0


def test_synthesizer_mel_has_one_frame_per_hop() -> None:
    assert dsp.melspectrogram(np.zeros(8000, np.float32)).shape == (80, 8000 // 200 + 1)


def test_griffin_lim_inverts_a_mel_spectrogram(dsp_reference: dict[str, np.ndarray]) -> None:
    wav = dsp_reference["1320_00000__wav"][: SR * 2]
    mel = dsp.melspectrogram(wav)

    inverted = dsp.griffin_lim(mel)

    assert inverted.dtype == np.float32
    assert abs(len(inverted) - len(wav)) < 200
    again = dsp.melspectrogram(dsp.rescale_peak(inverted, 0.9))
    frames = min(again.shape[1], mel.shape[1])
    # Phase is lost and the peak re-set, but the spectral envelope must survive: a silent or
    # noise output lands several units away on this scale.
    assert np.abs(again[:, :frames] - mel[:, :frames]).mean() < 1.0
    assert np.array_equal(inverted, dsp.griffin_lim(mel))  # seeded: repeatable


def test_griffin_lim_refuses_a_wrong_band_count() -> None:
    with pytest.raises(ValueError, match="80"):
        dsp.griffin_lim(np.zeros((40, 10), np.float32))


def test_deemphasis_undoes_preemphasis(speech: np.ndarray) -> None:
    restored = dsp.deemphasize(dsp.preemphasize(speech, 0.97), 0.97)

    assert np.abs(restored - speech).max() < 1e-4


def test_rescale_peak_sets_the_largest_magnitude() -> None:
    wav = tone(0.1, 0.2)

    assert np.abs(dsp.rescale_peak(wav, 0.9)).max() == pytest.approx(0.9, rel=1e-5)
    assert not dsp.rescale_peak(np.zeros(10, np.float32)).any()


# --- encoder side --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["1320_00000", "p260_00000"])
def test_encoder_mel_matches_reference(encoder_reference: dict[str, np.ndarray], name: str) -> None:
    mel = dsp.encoder_melspectrogram(encoder_reference[f"{name}__wav"])

    expected = encoder_reference[f"{name}__mel"]
    assert mel.shape == expected.shape
    np.testing.assert_allclose(mel, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", NATIVE_16K)
def test_preprocessing_reproduces_reference_wav(
    encoder_reference: dict[str, np.ndarray], audio_dir: Path, name: str
) -> None:
    decoded = decode_audio(audio_dir / f"{name}.mp3")

    ours = dsp.preprocess_wav(decoded, SR)

    expected = encoder_reference[f"{name}__wav"]
    assert len(ours) == len(expected)  # the same VAD windows kept, window for window
    assert np.abs(ours - expected).max() < 1e-4


def test_resampling_keeps_the_duration(speech: np.ndarray) -> None:
    at_24k = dsp.resample(speech, SR, 24000)

    assert len(at_24k) == pytest.approx(len(speech) * 1.5, abs=2)
    assert at_24k.dtype == np.float32
    assert np.array_equal(dsp.resample(speech, SR, SR), speech)


def test_quiet_audio_is_raised_to_target_level() -> None:
    raised = dsp.normalize_volume(tone(1.0, 0.001), -30.0)

    assert dsp.rms_dbfs(raised) == pytest.approx(-30.0, abs=0.01)


def test_loud_audio_is_never_lowered() -> None:
    loud = tone(1.0, 0.5)

    assert np.array_equal(dsp.normalize_volume(loud, -30.0), loud)


def test_long_silences_are_dropped_and_speech_kept(speech: np.ndarray) -> None:
    silence = np.zeros(SR * 2, np.float32)
    padded = np.concatenate([silence, speech, silence, speech, silence])

    trimmed = dsp.trim_long_silences(dsp.normalize_volume(padded, -30.0))

    only_speech = dsp.trim_long_silences(dsp.normalize_volume(speech, -30.0))
    # Six seconds of silence go, apart from the few windows the dilation keeps around speech.
    assert len(trimmed) < 2 * len(only_speech) + SR * 0.5
    assert len(trimmed) > 2 * len(only_speech) - SR * 0.5


def test_voice_mask_refuses_a_rate_webrtcvad_cannot_take() -> None:
    with pytest.raises(ValueError, match="webrtcvad"):
        dsp.voice_mask(np.zeros(22050, np.float32), dsp.EncoderSignal(sample_rate=22050))


# --- output finishing ----------------------------------------------------------------------------


def test_loudness_normalisation_reaches_target_rms() -> None:
    out = dsp.normalize_loudness(tone(1.0, 0.01), -20.0, peak=0.95)

    assert dsp.rms_dbfs(out) == pytest.approx(-20.0, abs=0.01)


def test_loudness_normalisation_keeps_peaks_under_the_limit() -> None:
    spiky = tone(1.0, 0.01)
    spiky[100] = 0.5

    out = dsp.normalize_loudness(spiky, -10.0, peak=0.9)

    assert np.abs(out).max() == pytest.approx(0.9, rel=1e-5)


def test_loudness_normalisation_does_not_blow_up_near_silence() -> None:
    whisper = tone(1.0, 1e-4)

    out = dsp.normalize_loudness(whisper, -20.0, max_gain_db=30.0)

    assert np.abs(out).max() == pytest.approx(1e-4 * 10 ** (30 / 20), rel=1e-3)
    assert not dsp.normalize_loudness(np.zeros(100, np.float32)).any()


def test_trailing_silence_is_trimmed_with_a_short_tail(speech: np.ndarray) -> None:
    wav = np.concatenate([speech, np.zeros(SR * 2, np.float32)])

    trimmed = dsp.trim_trailing_silence(wav, SR, keep_ms=150.0)

    assert len(speech) - SR * 0.5 < len(trimmed) <= len(speech) + int(SR * 0.16)
    assert np.array_equal(trimmed, wav[: len(trimmed)])


def test_trimming_all_silence_leaves_nothing() -> None:
    assert dsp.trim_trailing_silence(np.zeros(SR, np.float32), SR).size == 0
