"""Issue 21: a low, creaky or quiet real voice, heard over a phone line, is accepted as
speech, and noise, a tone and music through the same line are still refused.

The voices are made from ../shared/audio with ffmpeg: pitched down (resampled, then the
tempo put back), attenuated, band-limited to 300-3400 Hz and sampled at 8 kHz, as a phone
call is. A "creaky" voice is approximated by a pitch far down (7 semitones) with a vibrato
that makes its periods irregular. Only the recording checks run (the speaker encoder comes
after them and decides nothing about acceptance).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sv2tts.audio.codec import decode_audio, find_ffmpeg
from sv2tts.audio.recording import RecordingLimits, measure_recording, recording_problem
from tests.conftest import AUDIO
from tests.fakes.hostile_audio import MUSIC

PHONE = (
    "highpass=f=300:poles=2,highpass=f=300:poles=2,lowpass=f=3400:poles=2,lowpass=f=3400:poles=2"
)


def lowered(semitones: float) -> str:
    """ffmpeg filters that lower the pitch by `semitones` and keep the duration."""
    factor = 2.0 ** (-semitones / 12.0)
    return f"asetrate={16000 * factor:.3f},aresample=16000,atempo={1 / factor:.6f}"


VOICES = {
    "low (-4 semitones)": lowered(4),
    "quiet phone (-25 dB, 300-3400 Hz, 8 kHz)": f"volume=-25dB,{PHONE}",
    "low, quiet phone": f"{lowered(5)},volume=-25dB,{PHONE}",
    "creaky (-7 semitones, vibrato), quiet phone": (
        f"{lowered(7)},vibrato=f=9:d=0.6,volume=-20dB,{PHONE}"
    ),
}
NOT_SPEECH = {
    "white noise": "anoisesrc=d=6:c=white:a=0.3:r=16000",
    "tone": "aevalsrc='0.5*sin(2*PI*180*t)':d=6:s=16000",
    "music": f"aevalsrc='{MUSIC}':d=8:s=16000",
}


def phone_recording(source: list[str], filters: str, dest: Path) -> bytes:
    """What ffmpeg makes of `source` through `filters`, as an 8 kHz mono WAV."""
    subprocess.run(
        [find_ffmpeg(), "-nostdin", "-loglevel", "error", "-y", *source, "-af", filters,
         "-ac", "1", "-ar", "8000", str(dest)],
        check=True,
        timeout=60,
    )  # fmt: skip
    return dest.read_bytes()


@pytest.mark.parametrize("name", sorted(p.name for p in AUDIO.glob("*.mp3")) or ["(absent)"])
def test_low_creaky_and_quiet_phone_voices_are_accepted(
    audio_dir: Path, tmp_path: Path, name: str
) -> None:
    limits = RecordingLimits()
    for label, filters in VOICES.items():
        data = phone_recording(["-i", str(audio_dir / name)], filters, tmp_path / "v.wav")
        stats = measure_recording(decode_audio(data), 16000)
        assert recording_problem(stats, limits) is None, f"{name}, {label}: {stats}"
        assert stats.speech_share > limits.min_speech_share


@pytest.mark.parametrize("name", list(NOT_SPEECH))
def test_noise_tones_and_music_over_a_phone_line_are_still_refused(
    tmp_path: Path, name: str
) -> None:
    filters = f"volume=-20dB,{PHONE}"
    data = phone_recording(["-f", "lavfi", "-i", NOT_SPEECH[name]], filters, tmp_path / "n.wav")
    stats = measure_recording(decode_audio(data), 16000)
    problem = recording_problem(stats, RecordingLimits())
    assert problem is not None and problem.code == "no_speech", stats
    assert stats.speech_seconds > 2.0  # webrtcvad alone would have taken it


def main() -> int:
    """`python -m tests.sv2tts.audio.test_hidden_voices`: the speech share of every hard voice made
    from ../shared/audio and of the non-speech on the same line (README, "Bad input")."""
    import tempfile

    recordings = sorted(AUDIO.glob("*.mp3"))
    with tempfile.TemporaryDirectory() as folder:
        dest = Path(folder) / "made.wav"
        for label, filters in VOICES.items():
            shares = [
                measure_recording(
                    decode_audio(phone_recording(["-i", str(path)], filters, dest)), 16000
                ).speech_share
                for path in recordings
            ]
            print(f"{label}: " + " ".join(f"{share:.2f}" for share in shares))
        for name, source in NOT_SPEECH.items():
            data = phone_recording(["-f", "lavfi", "-i", source], f"volume=-20dB,{PHONE}", dest)
            print(f"{name}: {measure_recording(decode_audio(data), 16000).speech_share:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
