"""Decoding untrusted audio with limits, and encoding voice notes.

Fixtures in every format a Telegram user can send are made at test time from a shared MP3
with the same ffmpeg the decoder uses.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sv2tts.audio import codec, dsp
from sv2tts.audio.codec import decode_audio, encode_mp3, encode_ogg_opus, encoded_duration
from sv2tts.errors import ENGINE_ERROR_CODES, AudioError
from worker.api import ERROR_CODES

Encoder = Callable[[np.ndarray, int], bytes]

SOURCE = "1320_00000.mp3"
TOLERANCE_SECONDS = 0.05

# name -> ffmpeg output arguments; the mp4 carries a video stream like a Telegram video note.
FORMATS = {
    "voice.ogg": ["-c:a", "libopus", "-b:a", "24k"],
    "audio.m4a": ["-c:a", "aac", "-b:a", "64k"],
    "audio.wav": ["-c:a", "pcm_s16le", "-ar", "44100", "-ac", "2"],
    "audio.flac": ["-c:a", "flac", "-ar", "48000"],
    "video.mp4": [],  # built separately, see `converted`
}


@pytest.fixture(scope="module")
def source_mp3(audio_dir: Path) -> Path:
    return audio_dir / SOURCE


@pytest.fixture(scope="module")
def source_seconds(source_mp3: Path) -> float:
    return len(decode_audio(source_mp3)) / codec.SAMPLE_RATE


def ffmpeg(*args: str) -> None:
    subprocess.run(
        [codec.find_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def converted(source_mp3: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("formats")
    paths = {}
    for name, options in FORMATS.items():
        path = folder / name
        if name == "video.mp4":
            ffmpeg(
                *("-f", "lavfi", "-i", "color=c=blue:s=240x240:r=25"),
                *("-i", str(source_mp3), "-shortest"),
                *("-c:v", "libx264" if _has_encoder("libx264") else "mpeg4"),
                *("-c:a", "aac", "-map", "0:v:0", "-map", "1:a:0", str(path)),
            )
        else:
            ffmpeg("-i", str(source_mp3), *options, str(path))
        paths[name] = path
    return paths


def _has_encoder(name: str) -> bool:
    listing = subprocess.run(
        [codec.find_ffmpeg(), "-hide_banner", "-encoders"], capture_output=True, timeout=30
    )
    return f" {name} ".encode() in listing.stdout


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_format_decodes_to_16k_mono_float32(
    converted: dict[str, Path], source_seconds: float, name: str
) -> None:
    wav = decode_audio(converted[name].read_bytes())

    assert wav.dtype == np.float32
    assert wav.ndim == 1
    assert len(wav) / 16000 == pytest.approx(source_seconds, abs=TOLERANCE_SECONDS)
    assert 0.01 < float(np.sqrt(np.mean(wav**2))) < 1.0  # real signal, not silence or garbage


def test_a_path_decodes_like_its_bytes(converted: dict[str, Path]) -> None:
    path = converted["voice.ogg"]

    assert np.array_equal(decode_audio(path), decode_audio(path.read_bytes()))


def test_mp4_video_note_has_a_video_stream(converted: dict[str, Path]) -> None:
    # Guards the fixture itself: the decoder must pick the audio out of a real video.
    probe = subprocess.run(
        [codec.find_ffmpeg(), "-hide_banner", "-i", str(converted["video.mp4"])],
        capture_output=True,
        timeout=30,
    )
    assert b"Video:" in probe.stderr
    assert b"Audio:" in probe.stderr


def test_random_bytes_are_not_audio() -> None:
    noise = np.random.default_rng(1).integers(0, 256, size=50_000, dtype=np.uint8).tobytes()

    with pytest.raises(AudioError) as error:
        decode_audio(noise)
    assert error.value.code == "not_audio"


def test_a_text_file_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Hello, this is not a recording.\n" * 100)

    with pytest.raises(AudioError) as error:
        decode_audio(path)
    assert error.value.code == "not_audio"


def test_empty_input_is_not_audio() -> None:
    with pytest.raises(AudioError) as error:
        decode_audio(b"")
    assert error.value.code == "not_audio"


def test_a_playlist_cannot_pull_in_other_files(source_mp3: Path, tmp_path: Path) -> None:
    playlist = tmp_path / "list.ffconcat"
    playlist.write_text(f"ffconcat version 1.0\nfile '{source_mp3}'\n")

    with pytest.raises(AudioError) as error:
        decode_audio(playlist.read_bytes())
    assert error.value.code == "not_audio"


def test_oversize_input_is_refused_before_ffmpeg_runs(
    source_mp3: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("ffmpeg must not run for an oversize input")

    monkeypatch.setattr(codec.subprocess, "run", no_subprocess)
    size = source_mp3.stat().st_size

    for given in (source_mp3, source_mp3.read_bytes()):
        with pytest.raises(AudioError) as error:
            decode_audio(given, max_bytes=size - 1)
        assert error.value.code == "too_large"


def test_overlong_input_is_refused(source_mp3: Path) -> None:
    with pytest.raises(AudioError) as error:
        decode_audio(source_mp3, max_seconds=2.0)
    assert error.value.code == "too_long"


def test_input_just_under_the_duration_limit_is_accepted(
    source_mp3: Path, source_seconds: float
) -> None:
    wav = decode_audio(source_mp3, max_seconds=source_seconds + 0.01)

    assert len(wav) / 16000 == pytest.approx(source_seconds, abs=1e-3)


def test_decode_past_its_time_limit_is_killed(source_mp3: Path) -> None:
    # Starting ffmpeg alone takes far longer than a millisecond.
    with pytest.raises(AudioError) as error:
        decode_audio(source_mp3, timeout=0.001)
    assert error.value.code == "decode_timeout"


def test_error_codes_are_those_of_the_worker_contract() -> None:
    assert set(ENGINE_ERROR_CODES) <= set(ERROR_CODES)
    with pytest.raises(ValueError, match="unknown"):
        AudioError("no_such_code")


def test_ogg_opus_round_trip_keeps_duration(source_mp3: Path, source_seconds: float) -> None:
    wav = decode_audio(source_mp3)

    encoded = encode_ogg_opus(wav, 16000)

    assert encoded_duration(encoded) == pytest.approx(source_seconds, abs=TOLERANCE_SECONDS)


def test_mp3_round_trip_keeps_duration(source_mp3: Path, source_seconds: float) -> None:
    wav = decode_audio(source_mp3)

    encoded = encode_mp3(wav, 16000)

    assert encoded_duration(encoded) == pytest.approx(source_seconds, abs=TOLERANCE_SECONDS)


@pytest.mark.parametrize("encode", [encode_ogg_opus, encode_mp3])
def test_encoded_speech_survives_the_round_trip(source_mp3: Path, encode: Encoder) -> None:
    wav = decode_audio(source_mp3)

    back = decode_audio(encode(wav, 16000))

    assert len(back) == pytest.approx(len(wav), abs=TOLERANCE_SECONDS * 16000)
    n = min(len(wav), len(back))
    difference = np.abs(dsp.melspectrogram(back[:n]) - dsp.melspectrogram(wav[:n])).mean()
    # Measured: Opus 32k about 0.19, MP3 64k about 0.03 on the [-4, 4] scale; another
    # speaker, or the same speech 0.1 s late, is above 1.
    assert difference < 0.4


def test_encoding_accepts_other_sample_rates() -> None:
    t = np.arange(22050) / 22050
    wav = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)

    assert encoded_duration(encode_ogg_opus(wav, 22050)) == pytest.approx(1.0, abs=0.05)
    assert encoded_duration(encode_mp3(wav, 22050)) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("layout", ["stereo", "5.1", "7.1"])
def test_downmix_averages_channels_instead_of_adding_them(
    source_mp3: Path, tmp_path: Path, layout: str
) -> None:
    # The same voice in every channel: the mono mix is that voice, not a louder (clipped) one.
    channels = {"stereo": 2, "5.1": 6, "7.1": 8}[layout]
    pan = "|".join(f"c{i}=c0" for i in range(channels))
    path = tmp_path / "many.flac"
    ffmpeg("-i", str(source_mp3), "-af", f"pan={layout}|{pan}", "-c:a", "flac", str(path))
    mono, mixed = decode_audio(source_mp3), decode_audio(path)
    n = min(len(mono), len(mixed))
    assert dsp.rms_dbfs(mixed[:n]) == pytest.approx(dsp.rms_dbfs(mono[:n]), abs=0.2)
    assert np.abs(mixed).max() <= np.abs(mono).max() * 1.01


def dominant_frequency(wav: np.ndarray, sr: int = 16000) -> float:
    spectrum = np.abs(np.fft.rfft(wav * np.hanning(len(wav)), 8 * len(wav)))
    return float(np.argmax(spectrum) * sr / (8 * len(wav)))


@pytest.mark.parametrize("factor", [0.75, 1.25, 1.5])
def test_change_tempo_scales_the_length_and_keeps_the_pitch(factor: float) -> None:
    t = np.arange(3 * 16000) / 16000
    wav = (0.4 * np.sin(2 * np.pi * 440.0 * t) + 0.2 * np.sin(2 * np.pi * 880.0 * t)).astype(
        np.float32
    )
    out = codec.change_tempo(wav, 16000, factor)
    assert out.dtype == np.float32
    assert len(out) == pytest.approx(len(wav) / factor, rel=0.03)
    middle = out[len(out) // 4 : 3 * len(out) // 4]
    assert dominant_frequency(middle) == pytest.approx(440.0, rel=0.005)


def test_change_tempo_keeps_the_pitch_of_speech(source_mp3: Path) -> None:
    import librosa

    speech = decode_audio(source_mp3)

    def median_pitch(wav: np.ndarray) -> float:
        # librosa's probabilistic YIN: the median fundamental of the frames it calls voiced.
        f0, voiced, _ = librosa.pyin(wav, fmin=60.0, fmax=500.0, sr=16000)
        return float(np.median(f0[voiced]))

    faster = codec.change_tempo(speech, 16000, 1.5)
    assert len(faster) == pytest.approx(len(speech) / 1.5, rel=0.03)
    # A resampling speed-up would raise the pitch by the factor (7 semitones); this keeps it.
    assert median_pitch(faster) == pytest.approx(median_pitch(speech), rel=0.03)


def test_change_tempo_refuses_factors_out_of_range_and_leaves_one_alone() -> None:
    wav = np.linspace(-0.5, 0.5, 1600, dtype=np.float32)
    np.testing.assert_array_equal(codec.change_tempo(wav, 16000, 1.0), wav)
    for factor in (0.5, 2.0):
        with pytest.raises(ValueError, match="tempo"):
            codec.change_tempo(wav, 16000, factor)
