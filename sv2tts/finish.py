"""The finishing ladder: from the waveform the vocoder made to the bytes a listener gets.

    trim → pace → loudness → watermark → likeness → encode

One ladder of pure steps, run by `finish` with the choices it is given, and used alike by
`python -m sv2tts say` (sv2tts/cli.py) and the worker's synth and dialogue jobs
(worker/synth.py): the same text, voice, pace and seed give the same samples either way.

- `trim`: trailing silence cut (the decoder's last frames), a short tail kept;
- `pace`: the tempo changed with the pitch kept (ffmpeg's `atempo`, WSOLA: whole waveform
  segments aligned by cross-correlation, so pitch periods and formants stay intact), after the
  trim so that no silence is stretched, and before the loudness;
- `loudness`: brought to an RMS level with its peaks kept under a limit: last of the steps
  that shape the sound, so that nothing after it pushes a peak over;
- `watermark`: the inaudible mark (sv2tts/watermark/model.py) on the final sound;
- `likeness`: how much exactly these samples, the ones encoded, sound like the voice (the
  speaker encoder's cosine); a figure of the note the user hears, not of an intermediate;
- `encode`: Ogg/Opus voice note, MP3 or 16-bit WAV.

Each step is a function of its inputs only (the watermark network and the speaker encoder
are handed in); none keeps state.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from sv2tts.audio import codec, dsp
from sv2tts.choices import check_tempo
from sv2tts.embedding import Vector

log = logging.getLogger(__name__)

# "voice": an Ogg/Opus voice note (sv2tts.choices.OutputFormat.voice), "mp3" (its .mp3), and
# "wav", 16-bit PCM, for the CLI only.
Encoding = Literal["voice", "mp3", "wav"]
ENCODINGS: tuple[Encoding, ...] = ("voice", "mp3", "wav")
# A file's suffix -> its encoding (`python -m sv2tts say -o`).
SUFFIXES: dict[str, Encoding] = {
    ".ogg": "voice",
    ".oga": "voice",
    ".opus": "voice",
    ".mp3": "mp3",
    ".wav": "wav",
}
LOUDNESS_DBFS = -20.0


class Marks(Protocol):
    """What puts the watermark on a waveform (sv2tts.watermark.Watermarker)."""

    def apply(self, wav: np.ndarray, sample_rate: int) -> np.ndarray: ...


# The likeness of a waveform (at the ladder's sample rate) to a voice: Pipeline.likeness.
Likeness = Callable[[np.ndarray, Vector], float]


@dataclass(frozen=True, slots=True)
class Finishing:
    """The choices the ladder is run with."""

    pace: float = 1.0  # tempo, pitch kept: 1.25 is a quarter faster (TEMPO_RANGE)
    loudness_dbfs: float = LOUDNESS_DBFS
    encoding: Encoding = "voice"

    def __post_init__(self) -> None:
        check_tempo(self.pace, "pace")
        if self.encoding not in ENCODINGS:
            raise ValueError(
                f"encoding must be one of {', '.join(ENCODINGS)}, not {self.encoding!r}"
            )


@dataclass(frozen=True)
class Finished:
    """What the ladder made: the final samples, their encoding and their likeness."""

    wav: np.ndarray  # float32 at sample_rate: exactly what `data` encodes
    sample_rate: int
    data: bytes
    likeness: float | None  # None: not asked for, or not measurable

    @property
    def seconds(self) -> float:
        return self.wav.size / self.sample_rate


def encoding_of(path: Path) -> Encoding:
    """The encoding `path`'s suffix names; ValueError for another suffix."""
    encoding = SUFFIXES.get(path.suffix.lower())
    if encoding is None:
        raise ValueError(f"{path}: the output must end in {', '.join(SUFFIXES)}")
    return encoding


# --- the steps ------------------------------------------------------------------------------


def trim(wav: np.ndarray, sample_rate: int) -> np.ndarray:
    """`wav` without its trailing silence (a short tail kept: `dsp.trim_trailing_silence`)."""
    if wav.size == 0:
        return np.asarray(wav, dtype=np.float32)
    return dsp.trim_trailing_silence(wav, sample_rate)


def pace(wav: np.ndarray, sample_rate: int, factor: float) -> np.ndarray:
    """`wav` played `factor` times as fast with its pitch kept (1.0: `wav` as it is)."""
    check_tempo(factor, "pace")
    if factor == 1.0:
        return wav
    return codec.change_tempo(wav, sample_rate, factor)


def loudness(wav: np.ndarray, dbfs: float = LOUDNESS_DBFS) -> np.ndarray:
    """`wav` at an RMS of `dbfs`, its peaks under the limiter's ceiling."""
    if wav.size == 0:
        return wav
    return dsp.normalize_loudness(wav, dbfs)


def level(wav: np.ndarray, sample_rate: int, dbfs: float = LOUDNESS_DBFS) -> np.ndarray:
    """`trim` then `loudness`: one line of a dialogue brought to the level of the others."""
    return loudness(trim(wav, sample_rate), dbfs)


def watermark(wav: np.ndarray, sample_rate: int, marker: Marks | None) -> np.ndarray:
    """`wav` with the watermark (`marker` None: as it is)."""
    if marker is None:
        return wav
    return marker.apply(wav, sample_rate)


def likeness(wav: np.ndarray, voice: Vector | None, measure: Likeness | None) -> float | None:
    """How much `wav` sounds like `voice` by `measure`; None when not asked (no voice or no
    measure) or not measurable (a voice with no direction, a waveform the encoder finds
    nothing in). The figure is worth less than the audio it describes: it never fails."""
    if voice is None or measure is None:
        return None
    try:
        return float(measure(wav, voice))
    except ValueError as error:
        log.warning("likeness not measured: %s", error)
        return None


def encode(wav: np.ndarray, sample_rate: int, encoding: Encoding) -> bytes:
    """`wav` as an Ogg/Opus voice note ("voice"), an MP3 or a 16-bit WAV file."""
    if encoding == "wav":
        import soundfile

        buffer = io.BytesIO()
        soundfile.write(buffer, wav, sample_rate, format="WAV", subtype="PCM_16")
        return buffer.getvalue()
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, not {encoding!r}")
    return codec.encode(wav, sample_rate, encoding)


# --- the ladder -----------------------------------------------------------------------------


def finish(
    wav: np.ndarray,
    sample_rate: int,
    choices: Finishing = Finishing(),
    *,
    marker: Marks | None = None,
    voice: Vector | None = None,
    measure: Likeness | None = None,
) -> Finished:
    """The vocoder's `wav` through the ladder: trim → pace → loudness → watermark (when a
    `marker` is given) → likeness (of the final samples to `voice`, by `measure`, when both
    are given) → encode. ValueError for a pace out of range."""
    wav = trim(np.asarray(wav, dtype=np.float32), sample_rate)
    wav = pace(wav, sample_rate, choices.pace)
    wav = loudness(wav, choices.loudness_dbfs)
    wav = watermark(wav, sample_rate, marker)
    # Measured on the final waveform, right before it is encoded: keep this the last step.
    figure = likeness(wav, voice, measure)
    return Finished(wav, sample_rate, encode(wav, sample_rate, choices.encoding), figure)
