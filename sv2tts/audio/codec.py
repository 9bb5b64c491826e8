"""Decoding untrusted audio and encoding voice notes, with ffmpeg run as a subprocess.

- `decode_audio(data, *, max_bytes, max_seconds, timeout) -> np.ndarray`: bytes or a path of
  OGG/Opus, MP3, M4A/AAC, WAV, FLAC, WebM/Matroska or the audio track of an MP4 video, to
  16 kHz mono float32. Refusals raise `AudioError(code, detail)` with `code` one of
  "not_audio", "too_large", "too_long", "decode_timeout" (the codes of worker.api).
- `encode_ogg_opus(wav, sr) -> bytes`: a voice note that Telegram plays inline (Opus in Ogg),
  and `encode_mp3(wav, sr) -> bytes`, both through pydub with the same ffmpeg;
  `encode(wav, sr, OutputFormat.voice | OutputFormat.mp3)` picks one of the two.
- `encoded_duration(data) -> float`: seconds of encoded audio, by decoding it back.
- `change_tempo(wav, sr, factor) -> np.ndarray`: faster or slower speech, same pitch.

Untrusted input is limited before and during decoding: the byte size is checked before
ffmpeg starts; ffmpeg reads only local files (`-protocol_whitelist file`) through a short list
of audio/video demuxers (`-format_whitelist`), so that a playlist or concat file cannot make
it open other files or the network; it stops after `max_seconds + 1` seconds of output; and
it is killed when it runs past `timeout`. Nothing goes through a shell.

The system `ffmpeg` on PATH is preferred; otherwise the one bundled with `imageio-ffmpeg`.
There is no ffprobe (the bundled build has none), hence no pydub for decoding.

Torch-free (NumPy, pydub, ffmpeg).
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from sv2tts.choices import OutputFormat, check_tempo
from sv2tts.errors import AudioError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_SECONDS = 120.0
DEFAULT_TIMEOUT = 30.0

# Demuxers a user's audio may arrive in. "mov" also covers mp4, m4a and 3gp; "matroska"
# covers webm. Playlist-like demuxers (concat, hls, ...) are left out on purpose.
ALLOWED_DEMUXERS = ("ogg", "mp3", "mov", "wav", "flac", "aac", "matroska", "aiff", "amr", "caf")


@lru_cache(maxsize=1)
def find_ffmpeg() -> str:
    """Path of the ffmpeg executable: the system's if on PATH, else imageio-ffmpeg's."""
    system = shutil.which("ffmpeg")
    if system:
        return system
    try:
        import imageio_ffmpeg
    except ImportError as error:
        raise RuntimeError("no ffmpeg on PATH and imageio-ffmpeg is not installed") from error
    return imageio_ffmpeg.get_ffmpeg_exe()


@lru_cache(maxsize=4)
def ffmpeg_has_soxr(ffmpeg: str) -> bool:
    """Whether this ffmpeg was built with libsoxr (checked once per executable)."""
    try:
        result = subprocess.run(
            [ffmpeg, "-hide_banner", "-buildconf"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"--enable-libsoxr" in result.stdout


def _mono_filter(ffmpeg: str, sample_rate: int) -> list[str]:
    """Down to one channel and `sample_rate`, in one resampler.

    rematrix_maxval=1 keeps the downmix from adding channels up: without it ffmpeg's mono
    mix of a stereo recording with the same voice in both channels is 3 dB louder than the
    voice (8 channels: 13 dB), and a clean recording near full scale comes out clipped.
    soxr at 20-bit precision is what librosa's default ("soxr_hq") does, which the encoder's
    reference embeddings were computed with; ffmpeg's own resampler is the fallback.
    """
    options = f"aresample={sample_rate}:ochl=mono:rematrix_maxval=1"
    if ffmpeg_has_soxr(ffmpeg):
        options += ":resampler=soxr:precision=20"
    return ["-af", f"{options},aformat=channel_layouts=mono"]


def decode_command(
    ffmpeg: str, source: Path, *, max_seconds: float, sample_rate: int = SAMPLE_RATE
) -> list[str]:
    """The ffmpeg argument list that decodes `source` to raw mono float32 on stdout."""
    return [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-threads",
        "1",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        ",".join(ALLOWED_DEMUXERS),
        "-i",
        f"file:{source.resolve()}",
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
        "-t",
        f"{max_seconds + 1:.3f}",
        *_mono_filter(ffmpeg, sample_rate),
        "-f",
        "f32le",
        "pipe:1",
    ]


def _stderr_summary(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", errors="replace").strip().splitlines()
    return lines[-1][:300] if lines else "ffmpeg produced no audio"


def _decode_file(
    source: Path, *, max_seconds: float, timeout: float, sample_rate: int
) -> np.ndarray:
    command = decode_command(
        find_ffmpeg(), source, max_seconds=max_seconds, sample_rate=sample_rate
    )
    try:
        result = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:  # subprocess.run has killed ffmpeg by now
        raise AudioError("decode_timeout", f"decoding took longer than {timeout:g} s") from error
    if result.returncode != 0:
        raise AudioError("not_audio", _stderr_summary(result.stderr))
    usable = len(result.stdout) - len(result.stdout) % 4
    wav = np.frombuffer(result.stdout[:usable], dtype="<f4").astype(np.float32)
    if wav.size == 0:
        raise AudioError("not_audio", "no audio samples")
    if not np.all(np.isfinite(wav)):
        raise AudioError("not_audio", "decoded samples are not finite")
    if wav.size > max_seconds * sample_rate:
        raise AudioError("too_long", f"longer than {max_seconds:g} s")
    return wav


def decode_audio(
    data: bytes | Path | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    timeout: float = DEFAULT_TIMEOUT,
    sample_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """Mono float32 samples at `sample_rate` of untrusted audio given as bytes or a path.

    Raises AudioError: "too_large" (over `max_bytes`, checked before decoding),
    "not_audio" (nothing decodable), "too_long" (over `max_seconds`),
    "decode_timeout" (ffmpeg ran past `timeout` seconds and was killed).
    """
    if isinstance(data, bytes | bytearray | memoryview):
        size = len(data)
        if size > max_bytes:
            raise AudioError("too_large", f"{size} bytes, the limit is {max_bytes}")
        if size == 0:
            raise AudioError("not_audio", "empty input")
        # A temporary file rather than a pipe: MP4/M4A keep their index at the end, which
        # ffmpeg can only reach by seeking.
        with tempfile.TemporaryDirectory(prefix="sv2tts-decode-") as folder:
            source = Path(folder) / "input"
            source.write_bytes(bytes(data))
            return _decode_file(
                source, max_seconds=max_seconds, timeout=timeout, sample_rate=sample_rate
            )
    source = Path(data)
    try:
        size = os.stat(source).st_size
    except OSError as error:
        raise AudioError("not_audio", f"cannot read {source.name}") from error
    if size > max_bytes:
        raise AudioError("too_large", f"{size} bytes, the limit is {max_bytes}")
    if not source.is_file() or size == 0:
        raise AudioError("not_audio", f"{source.name} is not a non-empty file")
    return _decode_file(source, max_seconds=max_seconds, timeout=timeout, sample_rate=sample_rate)


@lru_cache(maxsize=1)
def _pydub_segment() -> type:
    """pydub's AudioSegment, pointed at the ffmpeg that `find_ffmpeg` chose."""
    with warnings.catch_warnings():
        # pydub warns at import when no ffmpeg is on PATH (it gets the bundled one just
        # below), and about its `audioop` import, which Python 3.13 removed (audioop-lts
        # supplies it there).
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        from pydub import AudioSegment
    AudioSegment.converter = find_ffmpeg()
    return AudioSegment


def _encode(wav: np.ndarray, sr: int, fmt: str, codec: str, bitrate: str, *extra: str) -> bytes:
    """`wav` encoded by pydub (ffmpeg behind it) as 16-bit mono.

    Only our own synthesized audio is encoded, so pydub's lack of a time limit is acceptable
    here (the worker's job timeout bounds it anyway); untrusted input never comes this way.
    pydub has ffmpeg write to a temporary file, not a pipe, which the MP3 muxer needs to seek
    back and write the LAME header that lets decoders restore the exact duration.
    """
    samples = np.clip(np.asarray(wav, dtype=np.float32).reshape(-1), -1.0, 1.0)
    pcm = np.round(samples * 32767.0).astype("<i2")
    segment = _pydub_segment()(data=pcm.tobytes(), sample_width=2, frame_rate=sr, channels=1)
    out = io.BytesIO()
    try:
        segment.export(out, format=fmt, codec=codec, bitrate=bitrate, parameters=list(extra))
    except Exception as error:  # pydub raises CouldntEncodeError with ffmpeg's stderr
        raise AudioError("internal", f"encoding failed: {error}") from error
    return out.getvalue()


def encode_ogg_opus(
    wav: np.ndarray, sr: int, *, bitrate: str = "32k", output_rate: int = 48000
) -> bytes:
    """An Ogg/Opus voice note (mono) of `wav` at `sr`; Telegram plays it inline.

    Opus codes at 48 kHz internally and Telegram's own voice notes are 48 kHz, so that is
    the default `output_rate`; "voip" tunes the encoder for speech.
    """
    return _encode(
        wav, sr, "ogg", "libopus", bitrate, "-application", "voip", "-ar", str(output_rate)
    )


def encode_mp3(wav: np.ndarray, sr: int, *, bitrate: str = "64k") -> bytes:
    """An MP3 (mono, libmp3lame, constant bitrate) of `wav` at `sr`."""
    return _encode(wav, sr, "mp3", "libmp3lame", bitrate)


def change_tempo(
    wav: np.ndarray, sr: int, factor: float, *, timeout: float = DEFAULT_TIMEOUT
) -> np.ndarray:
    """`wav` played `factor` times as fast (1.5: two thirds of the length), pitch kept.

    ffmpeg's `atempo` filter, not a phase vocoder (librosa.effects.time_stretch): atempo
    moves whole waveform segments aligned by cross-correlation (WSOLA), so every pitch
    period and the formants stay intact, where a phase vocoder smears the phases of speech
    into a reverberant, "phasey" sound; and it is the ffmpeg this module already runs, on
    samples piped in and out. `factor` must be within TEMPO_RANGE; 1.0 returns `wav` as is.
    """
    check_tempo(factor)
    samples = np.ascontiguousarray(np.asarray(wav, dtype="<f4").reshape(-1))
    if factor == 1.0 or samples.size == 0:
        return samples.astype(np.float32)
    command = [
        find_ffmpeg(),
        *("-nostdin", "-hide_banner", "-loglevel", "error"),
        *("-f", "f32le", "-ar", str(sr), "-ac", "1", "-i", "pipe:0"),
        *("-af", f"atempo={factor:.6f}", "-f", "f32le", "pipe:1"),
    ]
    try:
        result = subprocess.run(
            command, input=samples.tobytes(), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise AudioError("internal", f"changing the tempo took over {timeout:g} s") from error
    if result.returncode != 0:
        raise AudioError("internal", f"changing the tempo failed: {_stderr_summary(result.stderr)}")
    usable = len(result.stdout) - len(result.stdout) % 4
    return np.frombuffer(result.stdout[:usable], dtype="<f4").astype(np.float32)


def encode(wav: np.ndarray, sr: int, output_format: OutputFormat | str) -> bytes:
    """`wav` at `sr` encoded as `output_format` ("voice": Ogg/Opus, "mp3")."""
    fmt = OutputFormat(output_format)
    if fmt is OutputFormat.mp3:
        return encode_mp3(wav, sr)
    return encode_ogg_opus(wav, sr)


def encoded_duration(data: bytes, *, timeout: float = DEFAULT_TIMEOUT) -> float:
    """Seconds of audio in encoded `data`, found by decoding it back."""
    wav = decode_audio(data, max_bytes=max(len(data), 1), max_seconds=24 * 3600.0, timeout=timeout)
    return len(wav) / SAMPLE_RATE
