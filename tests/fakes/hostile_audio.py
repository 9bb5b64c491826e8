"""A corpus of hostile and malformed recordings, made at test time, each with its answer.

`hostile_corpus(workdir, speech)` returns `HostileItem(name, data, expected)` triples: the
bytes a user could send and the error code the engine must answer with (`expected` None:
the recording must be accepted). Nothing is stored: every item is generated with ffmpeg's
lavfi sources (noise, tones, music, video), by byte surgery (truncation, lying headers), or
from a real recording (`speech`, e.g. one of ../shared/audio/*.mp3; the items that need it
are left out when it is None). The whole corpus is built in a few seconds, and every item
is answered within the decode timeout: the "hour of silence" is a 370 KB FLAC that the
decoder's duration limit stops after two minutes of output.

Shared by the engine's test (tests/sv2tts/audio/test_hostile_audio.py) and the bot's, which sends
the same bytes through Telegram updates.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sv2tts.audio.codec import DEFAULT_MAX_BYTES, find_ffmpeg

SAMPLE_RATE = 16000


@dataclass(frozen=True, slots=True)
class HostileItem:
    name: str
    data: bytes
    expected: str | None  # the error code, or None: accepted as a voice


def ffmpeg_bytes(*args: str, suffix: str, workdir: Path) -> bytes:
    """What ffmpeg writes for these input and output arguments, as bytes."""
    out = workdir / f"ffmpeg-out{suffix}"
    subprocess.run(
        [find_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args, str(out)],
        check=True,
        timeout=60,
    )
    data = out.read_bytes()
    out.unlink()
    return data


def lavfi(source: str, *codec: str, suffix: str, workdir: Path) -> bytes:
    return ffmpeg_bytes("-f", "lavfi", "-i", source, *codec, suffix=suffix, workdir=workdir)


def wav_bytes(
    pcm: bytes,
    rate: int,
    *,
    channels: int = 1,
    declared_data_bytes: int | None = None,
) -> bytes:
    """A 16-bit PCM WAV whose header says what it is told to (byte surgery made easy)."""
    block = channels * 2
    data_bytes = len(pcm) if declared_data_bytes is None else declared_data_bytes
    header = b"RIFF" + struct.pack("<I", min(36 + data_bytes, 0xFFFFFFFF)) + b"WAVE"
    header += b"fmt " + struct.pack(
        "<IHHIIHH", 16, 1, channels, rate, (rate * block) & 0xFFFFFFFF, block, 16
    )
    return header + b"data" + struct.pack("<I", min(data_bytes, 0xFFFFFFFF)) + pcm


def pcm16(wav: np.ndarray) -> bytes:
    return (np.clip(wav, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


# The music of the corpus: a melody of plucked, harmonic notes on a pseudo-random scale
# over a sustained chord and a beat (noise bursts and a low thump), as ffmpeg expressions.
_NOTE = "220*pow(2,mod(floor(t*4)*5,12)/12)"
MUSIC = (
    f"0.3*(sin(2*PI*t*{_NOTE})+0.4*sin(4*PI*t*{_NOTE})+0.2*sin(6*PI*t*{_NOTE}))"
    "*exp(-5*mod(t,0.25))+0.15*(sin(2*PI*110*t)+sin(2*PI*165*t))"
    "+0.1*random(0)*exp(-40*mod(t,0.5))"
)
_PLUCK_NOTE = "330*pow(2,mod(floor(t*3)*7,12)/12)"
MELODY = f"0.5*(sin(2*PI*t*{_PLUCK_NOTE})+0.3*sin(4*PI*t*{_PLUCK_NOTE}))*exp(-12*mod(t,0.333))"
DRUMS = "0.6*random(0)*exp(-30*mod(t,0.5))+0.8*sin(2*PI*60*t)*exp(-20*mod(t+0.25,0.5))"


def _generated(workdir: Path, max_bytes: int) -> dict[str, tuple[str, Callable[[], bytes]]]:
    """Items that need no real recording: name -> (expected code, maker)."""
    rng = np.random.default_rng(11)

    def tone_pcm(seconds: float, frequency: float = 220.0) -> bytes:
        t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
        return pcm16(0.5 * np.sin(2 * np.pi * frequency * t))

    def video_without_audio() -> bytes:
        return lavfi(
            "color=c=blue:s=64x64:r=10", "-t", "3", "-c:v", "mpeg4", suffix=".mp4", workdir=workdir
        )

    return {
        "empty": ("not_audio", lambda: b""),
        "random_bytes": ("not_audio", lambda: rng.integers(0, 256, 65536, np.uint8).tobytes()),
        "text_file": ("not_audio", lambda: b"Hello, this is not a recording.\n" * 200),
        # 1 KB of samples (32 ms) under a header that claims 2 GB.
        "wav_header_claims_2gb": (
            "too_short",
            lambda: wav_bytes(tone_pcm(0.032), SAMPLE_RATE, declared_data_bytes=2_000_000_000),
        ),
        "fifty_ms": ("too_short", lambda: wav_bytes(tone_pcm(0.05), SAMPLE_RATE)),
        "wav_rate_zero": ("not_audio", lambda: wav_bytes(tone_pcm(0.5), 0)),
        # The same 1 KB played at 1 Hz would last over eight minutes.
        "wav_rate_one_hz": ("too_long", lambda: wav_bytes(tone_pcm(0.032), 1)),
        "silence": (
            "silent",
            lambda: lavfi(
                "anullsrc=r=48000:cl=mono",
                "-t",
                "5",
                "-c:a",
                "libopus",
                suffix=".ogg",
                workdir=workdir,
            ),
        ),
        "hour_of_silence": (
            "too_long",
            lambda: lavfi(
                "anullsrc=r=8000:cl=mono",
                "-t",
                "3600",
                "-c:a",
                "flac",
                suffix=".flac",
                workdir=workdir,
            ),
        ),
        "white_noise": (
            "no_speech",
            lambda: lavfi(
                "anoisesrc=d=6:c=white:r=16000:a=0.3",
                "-c:a",
                "libopus",
                suffix=".ogg",
                workdir=workdir,
            ),
        ),
        "pink_noise": (
            "no_speech",
            lambda: lavfi(
                "anoisesrc=d=6:c=pink:r=16000:a=0.3",
                "-c:a",
                "libmp3lame",
                suffix=".mp3",
                workdir=workdir,
            ),
        ),
        "tone": (
            "no_speech",
            lambda: lavfi("sine=f=440:d=6:r=16000", "-c:a", "aac", suffix=".m4a", workdir=workdir),
        ),
        "music": (
            "no_speech",
            lambda: lavfi(
                f"aevalsrc=exprs='{MUSIC}':s=22050:d=8",
                "-c:a",
                "libmp3lame",
                suffix=".mp3",
                workdir=workdir,
            ),
        ),
        "melody": (
            "no_speech",
            lambda: lavfi(
                f"aevalsrc=exprs='{MELODY}':s=16000:d=8",
                "-c:a",
                "libvorbis",
                suffix=".ogg",
                workdir=workdir,
            ),
        ),
        "drums": (
            "no_speech",
            lambda: lavfi(
                f"aevalsrc=exprs='{DRUMS}':s=16000:d=8",
                "-c:a",
                "flac",
                suffix=".flac",
                workdir=workdir,
            ),
        ),
        "video_without_audio": ("not_audio", video_without_audio),
        # Valid audio one byte over the limit: refused before anything decodes it.
        "over_byte_limit": (
            "too_large",
            lambda: wav_bytes(bytes(max_bytes + 1 - 44), SAMPLE_RATE),
        ),
    }


def _from_speech(speech: Path, workdir: Path) -> dict[str, tuple[str | None, Callable[[], bytes]]]:
    """Items made from a real recording of speech: name -> (expected code, maker)."""

    def mp3() -> bytes:
        return speech.read_bytes()

    def converted(*codec: str, suffix: str) -> bytes:
        return ffmpeg_bytes("-i", str(speech), *codec, suffix=suffix, workdir=workdir)

    def playlist(kind: str) -> bytes:
        # Points at a real recording, so that a decoder that followed it would find speech.
        target = workdir / "target.mp3"
        target.write_bytes(mp3())
        if kind == "ffconcat":
            return f"ffconcat version 1.0\nfile '{target}'\n".encode()
        return (
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n"
            f"#EXTINF:10.0,\nfile://{target}\n#EXT-X-ENDLIST\n"
        ).encode()

    return {
        "truncated_ogg_headers_only": (
            "not_audio",
            lambda: converted("-c:a", "libopus", "-b:a", "24k", suffix=".ogg")[:300],
        ),
        # A third of a 5 s recording is left: under the 2 s of speech a voice needs.
        "truncated_ogg": (
            "too_short",
            lambda: (data := converted("-c:a", "libopus", suffix=".ogg"))[: len(data) // 3],
        ),
        "truncated_mp3": ("too_short", lambda: (data := mp3())[: len(data) // 4]),
        # MP4 keeps its index at the end: half a file has none.
        "truncated_mp4": (
            "not_audio",
            lambda: (data := converted("-c:a", "aac", suffix=".m4a"))[: len(data) // 2],
        ),
        "sub_second_speech": (
            "too_short",
            lambda: converted("-ss", "1.5", "-t", "0.6", "-c:a", "libopus", suffix=".ogg"),
        ),
        "clipped_speech": (
            "clipped",
            lambda: converted("-af", "volume=30", "-c:a", "pcm_s16le", suffix=".wav"),
        ),
        "ffconcat_playlist": ("not_audio", lambda: playlist("ffconcat")),
        "hls_playlist": ("not_audio", lambda: playlist("hls")),
        "speech_at_384khz": (None, lambda: converted("-ar", "384000", suffix=".wav")),
        "speech_at_4khz": (None, lambda: converted("-ar", "4000", suffix=".wav")),
        "speech_in_8_channels": (
            None,
            lambda: converted(
                "-af",
                "pan=7.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0|c6=c0|c7=c0",
                "-c:a",
                "flac",
                suffix=".flac",
            ),
        ),
    }


def hostile_corpus(
    workdir: Path, speech: Path | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[HostileItem]:
    """Every item, built now in `workdir` (a scratch folder the caller owns)."""
    recipes: dict[str, tuple[str | None, Callable[[], bytes]]] = {**_generated(workdir, max_bytes)}
    if speech is not None:
        recipes.update(_from_speech(speech, workdir))
    return [HostileItem(name, make(), expected) for name, (expected, make) in recipes.items()]


def corpus_names(with_speech: bool = True) -> list[str]:
    """The items' names without building them (for test parametrisation)."""
    names = list(_generated(Path("."), DEFAULT_MAX_BYTES))
    if with_speech:
        names += list(_from_speech(Path("speech.mp3"), Path(".")))
    return names


def corpus_answers(with_speech: bool = True) -> dict[str, str | None]:
    """Each item's expected answer by name, without building the items."""
    recipes: dict[str, tuple[str | None, Callable[[], bytes]]] = {
        **_generated(Path("."), DEFAULT_MAX_BYTES)
    }
    if with_speech:
        recipes.update(_from_speech(Path("speech.mp3"), Path(".")))
    return {name: expected for name, (expected, _) in recipes.items()}


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.fakes.hostile_audio DIR [SPEECH.mp3]`: write the corpus to DIR (one
    file per item, named after it), e.g. to run `python -m sv2tts embed --json DIR/*`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.fakes.hostile_audio")
    parser.add_argument("folder", type=Path)
    parser.add_argument("speech", type=Path, nargs="?", help="a real recording of speech")
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    for item in hostile_corpus(args.folder, args.speech):
        (args.folder / f"{item.name}.bin").write_bytes(item.data)
        print(f"{item.name}.bin\t{len(item.data)} bytes\texpected: {item.expected or 'accepted'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
