"""The finishing ladder: trim → pace → loudness → watermark → likeness → encode, pure steps.

The output formats are checked here, once, on what `encode` makes (the CLI's and the worker's
tests only check that they asked for the right encoding: tests/fakes/formats.py).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile

from sv2tts import finish
from sv2tts.audio import dsp
from sv2tts.audio.codec import decode_audio, encoded_duration
from tests.fakes.formats import container

SR = 16000


def voiced(seconds: float, silence: float = 0.0, hz: float = 180.0) -> np.ndarray:
    """A harmonic tone (a stand-in for a voiced sound) followed by `silence` seconds of zeros."""
    t = np.arange(int(SR * seconds)) / SR
    tone = sum(np.sin(2 * np.pi * hz * k * t) / k for k in range(1, 6)) * 0.05
    return np.concatenate([tone, np.zeros(int(SR * silence))]).astype(np.float32)


class Recorder:
    """A marker and a measure that write down the order in which the ladder called them and
    the samples they were given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, np.ndarray]] = []

    def apply(self, wav: np.ndarray, sample_rate: int) -> np.ndarray:
        self.calls.append(("watermark", wav.copy()))
        return wav * np.float32(0.5)

    def measure(self, wav: np.ndarray, voice: object) -> float:
        self.calls.append(("likeness", wav.copy()))
        return 0.75


def test_each_encoding_is_the_container_it_names() -> None:
    wav = voiced(1.0)
    voice_note = finish.encode(wav, SR, "voice")
    assert container(voice_note) == "voice"
    head = voice_note.find(b"OpusHead")
    assert 0 < head < 100  # in the first page, as the Ogg Opus mapping requires
    assert voice_note[head + 9] == 1  # channel count
    assert container(finish.encode(wav, SR, "mp3")) == "mp3"
    wav_file = finish.encode(wav, SR, "wav")
    assert container(wav_file) == "wav"
    info = soundfile.info(io.BytesIO(wav_file))
    assert (info.samplerate, info.channels, info.subtype) == (SR, 1, "PCM_16")
    for encoding in finish.ENCODINGS:
        data = finish.encode(wav, SR, encoding)
        assert encoded_duration(data) == pytest.approx(1.0, abs=0.03)
    with pytest.raises(ValueError, match="flac"):
        finish.Finishing(encoding="flac")  # type: ignore[arg-type]


def test_the_suffix_of_a_file_names_its_encoding(tmp_path: object) -> None:
    from pathlib import Path

    names = {"a.ogg": "voice", "a.OGA": "voice", "a.opus": "voice", "a.mp3": "mp3"}
    names["a.wav"] = "wav"
    assert {n: finish.encoding_of(Path(n)) for n in names} == names
    with pytest.raises(ValueError, match=r"x\.flac.*\.ogg"):
        finish.encoding_of(Path("x.flac"))


def test_the_ladder_runs_its_steps_in_order_on_the_final_samples() -> None:
    made = voiced(2.0, silence=1.0)
    recorder = Recorder()
    note = finish.finish(
        made,
        SR,
        finish.Finishing(pace=1.25, encoding="wav"),
        marker=recorder,
        voice=[1.0] * 256,
        measure=recorder.measure,
    )
    # trim (the second of silence goes), pace (a fifth shorter), loudness (-20 dBFS)...
    assert note.seconds == pytest.approx((2.0 + 0.15) / 1.25, abs=0.03)
    [(first, marked_input), (second, measured)] = recorder.calls
    assert (first, second) == ("watermark", "likeness")
    assert dsp.rms_dbfs(marked_input) == pytest.approx(-20.0, abs=0.5)
    # ... then the watermark, then the likeness of exactly what is encoded.
    np.testing.assert_array_equal(measured, note.wav)
    np.testing.assert_array_equal(measured, marked_input * np.float32(0.5))
    assert note.likeness == 0.75
    back, rate = soundfile.read(io.BytesIO(note.data), dtype="float32")
    assert rate == SR and np.abs(back - note.wav).max() < 1e-4


def test_pace_comes_after_the_trim_and_before_the_loudness() -> None:
    # The order the CLI and the worker used to disagree on: the pace changes the peaks, the
    # loudness is applied to the paced samples, so the note ends at the asked level.
    made = voiced(2.0, silence=0.5) * np.float32(3.0)
    note = finish.finish(made, SR, finish.Finishing(pace=1.5, encoding="wav"))
    expected = finish.loudness(finish.pace(finish.trim(made, SR), SR, 1.5))
    np.testing.assert_array_equal(note.wav, expected)
    assert np.max(np.abs(note.wav)) <= 0.95 + 1e-6


def test_the_normal_pace_and_no_marker_leave_the_steps_out() -> None:
    made = voiced(1.0)
    assert finish.pace(made, SR, 1.0) is made
    assert finish.watermark(made, SR, None) is made
    assert finish.likeness(made, None, lambda w, v: 1.0) is None
    assert finish.likeness(made, [1.0] * 256, None) is None


def test_a_pace_out_of_range_is_refused_before_any_work() -> None:
    for pace in (0.5, 2.0):
        with pytest.raises(ValueError, match="pace"):
            finish.Finishing(pace=pace)
        with pytest.raises(ValueError, match="pace"):
            finish.pace(voiced(1.0), SR, pace)


def test_a_likeness_that_cannot_be_measured_is_none_not_a_failure() -> None:
    def refuse(wav: np.ndarray, voice: object) -> float:
        raise ValueError("a speaker embedding cannot be all zeros")

    note = finish.finish(voiced(1.0), SR, voice=[0.0] * 256, measure=refuse)
    assert note.likeness is None and container(note.data) == "voice"


def test_dialogue_lines_are_levelled_to_the_same_loudness() -> None:
    quiet, loud = voiced(1.0, 0.5) * np.float32(0.1), voiced(1.0, 0.5) * np.float32(4.0)
    levels = [dsp.rms_dbfs(finish.level(w, SR)) for w in (quiet, loud)]
    assert levels == pytest.approx([-20.0, -20.0], abs=0.5)
    assert finish.level(np.zeros(0, np.float32), SR).size == 0
    assert decode_audio(finish.encode(voiced(0.5), SR, "voice")).size > 0
