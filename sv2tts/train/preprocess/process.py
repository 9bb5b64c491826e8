"""One utterance in, one training-set entry out: the signal path of `preprocess`.

Each function here is what one worker process does to one utterance, and it writes the
utterance's files itself (so that only small records cross between processes):

- `process_synthesizer`: audio decoded by the engine's decoder (`sv2tts.audio.codec`, 16 kHz mono),
  rescaled to a peak of 0.9, long silences dropped by the encoder's VAD (no volume change),
  then the engine's mel (`sv2tts.audio.dsp.melspectrogram`); the speaker embedding of that audio
  (the encoder's own preprocessing first: -30 dBFS, VAD); the symbol ids of the text.
  Writes `audio/audio-ID.npy`, `mels/mel-ID.npy` (80, T), `embeds/embed-ID.npy` (256,).
  A piece of a split utterance (`Utterance.span`, see `alignments`) is cut out of the file
  after the peak rescaling and before the trimming (`piece_audio`).
- `process_vocoder`: the same audio and mel; writes `audio/ID.npy`, `mels/ID.npy` (for a GTA
  set: `mels_gt/ID.npy` and `embeds/ID.npy`, the GTA mel comes later, see `gta`).
- `process_encoder`: the encoder's preprocessing and its 40-band frames; writes
  `<speaker>/frames-ID.npy` (T, 40).

Each returns an `Outcome`: kept (with sizes) or skipped with a reason from `SKIP_REASONS`.
A file that cannot be decoded is "broken": one WARNING line, never an exception.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sv2tts.audio import dsp
from sv2tts.audio.codec import SAMPLE_RATE, decode_audio
from sv2tts.errors import AudioError
from sv2tts.text import TextFrontend
from sv2tts.train.preprocess.datasets import Utterance, safe_id

log = logging.getLogger(__name__)

SKIP_REASONS = ("too_short", "too_long", "no_text", "broken")

# Dataset files are the operator's own, not a user's upload: the decoder's limits only have to
# stop the absurd.
_MAX_FILE_BYTES = 2**31
_MAX_FILE_SECONDS = 3600.0
_DECODE_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class PreprocessConfig:
    """What decides whether and how an utterance enters a training set (the reference's
    values as defaults)."""

    rescale_peak: float = 0.9
    trim_silence: bool = True
    min_seconds: float = 1.6  # shorter utterances (after trimming) are skipped
    max_mel_frames: int = 900  # longer ones too (synthesizer and vocoder)
    encoder_min_frames: int = 160  # the encoder's partial length: shorter ones are useless
    signal: dsp.SynthSignal = field(default_factory=dsp.SynthSignal)
    encoder_signal: dsp.EncoderSignal = field(default_factory=dsp.EncoderSignal)


@dataclass(frozen=True, slots=True)
class Outcome:
    id: str
    speaker: str
    kept: bool
    reason: str | None = None  # one of SKIP_REASONS when not kept
    n_samples: int = 0
    n_frames: int = 0
    text: str = ""
    ids: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ids": list(self.ids)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(**{**data, "ids": tuple(data.get("ids", ()))})


def load_audio(path: Path) -> np.ndarray:
    """The engine's decoding of a dataset file: 16 kHz mono float32."""
    return decode_audio(
        path, max_bytes=_MAX_FILE_BYTES, max_seconds=_MAX_FILE_SECONDS, timeout=_DECODE_TIMEOUT
    )


def synthesizer_audio(wav16k: np.ndarray, config: PreprocessConfig) -> np.ndarray:
    """The audio a synthesizer mel is made from: peak `rescale_peak`, then the encoder's
    VAD trimming without any change of volume."""
    wav = dsp.rescale_peak(wav16k, config.rescale_peak)
    if config.trim_silence:
        wav = dsp.trim_long_silences(wav, config.encoder_signal)
    return wav


def piece_audio(
    wav16k: np.ndarray, span: tuple[float, float], config: PreprocessConfig
) -> np.ndarray:
    """The audio of one piece of a split utterance, as the reference makes it: the peak of
    the whole file rescaled, the piece cut out, then its long silences trimmed."""
    wav = dsp.rescale_peak(wav16k, config.rescale_peak)
    rate = config.signal.sample_rate
    wav = wav[int(span[0] * rate) : int(span[1] * rate)]
    if config.trim_silence and len(wav):
        wav = dsp.trim_long_silences(wav, config.encoder_signal)
    return wav


def _skip(utterance: Utterance, reason: str, **sizes: int) -> Outcome:
    return Outcome(utterance.id, utterance.speaker, kept=False, reason=reason, **sizes)


def _decoded(utterance: Utterance) -> np.ndarray | None:
    try:
        return load_audio(utterance.audio)
    except AudioError as error:
        log.warning("%s: cannot decode (%s: %s), skipped", utterance.audio, error.code, error)
        return None


def _audio_and_mel(
    utterance: Utterance, config: PreprocessConfig
) -> tuple[np.ndarray, np.ndarray] | Outcome:
    wav = _decoded(utterance)
    if wav is None:
        return _skip(utterance, "broken")
    if utterance.span is None:
        wav = synthesizer_audio(wav, config)
    else:
        wav = piece_audio(wav, utterance.span, config)
    if len(wav) < config.min_seconds * config.signal.sample_rate:
        return _skip(utterance, "too_short", n_samples=len(wav))
    mel = dsp.melspectrogram(wav, config.signal)
    if mel.shape[1] > config.max_mel_frames:
        return _skip(utterance, "too_long", n_samples=len(wav), n_frames=mel.shape[1])
    return wav, mel


def _save(path: Path, array: np.ndarray) -> None:
    """Written under a temporary name, then renamed: a killed run leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.npy")
    np.save(partial, array, allow_pickle=False)
    partial.replace(path)


def process_synthesizer(
    utterance: Utterance,
    out_dir: Path,
    frontend: TextFrontend,
    embed: Any,
    config: PreprocessConfig,
) -> Outcome:
    """One synthesizer training entry; `embed(wav16k) -> (256,)` is the speaker encoder."""
    ids = tuple(frontend.encode(utterance.text))
    if len(ids) <= 1:
        log.warning("%s: no text the symbol set can spell, skipped", utterance.audio)
        return _skip(utterance, "no_text")
    result = _audio_and_mel(utterance, config)
    if isinstance(result, Outcome):
        return result
    wav, mel = result
    embedding = np.asarray(embed(wav), dtype=np.float32)
    _save(out_dir / "audio" / f"audio-{utterance.id}.npy", wav.astype(np.float32))
    _save(out_dir / "mels" / f"mel-{utterance.id}.npy", mel.astype(np.float32))
    _save(out_dir / "embeds" / f"embed-{utterance.id}.npy", embedding)
    return _kept(utterance, wav, mel, ids)


def _kept(utterance: Utterance, wav: np.ndarray, mel: np.ndarray, ids: tuple[int, ...]) -> Outcome:
    """The outcome of an utterance written to the training set."""
    return Outcome(
        utterance.id,
        utterance.speaker,
        kept=True,
        n_samples=len(wav),
        n_frames=mel.shape[1],
        text=utterance.text,
        ids=ids,
    )


def process_vocoder(
    utterance: Utterance,
    out_dir: Path,
    config: PreprocessConfig,
    gta: tuple[TextFrontend, Any] | None = None,
) -> Outcome:
    """One vocoder training entry of ground-truth mel and audio. With `gta` (the GTA
    synthesizer's front end and the speaker encoder) also the symbol ids and the embedding
    that the GTA pass needs, and the ground-truth mel goes to `mels_gt/` instead."""
    ids: tuple[int, ...] = ()
    if gta is not None:
        ids = tuple(gta[0].encode(utterance.text))
        if len(ids) <= 1:
            log.warning("%s: no text the symbol set can spell, skipped", utterance.audio)
            return _skip(utterance, "no_text")
    result = _audio_and_mel(utterance, config)
    if isinstance(result, Outcome):
        return result
    wav, mel = result
    _save(out_dir / "audio" / f"{utterance.id}.npy", wav.astype(np.float32))
    if gta is None:
        _save(out_dir / "mels" / f"{utterance.id}.npy", mel.astype(np.float32))
    else:
        _save(out_dir / "mels_gt" / f"{utterance.id}.npy", mel.astype(np.float32))
        _save(out_dir / "embeds" / f"{utterance.id}.npy", np.asarray(gta[1](wav), np.float32))
    return _kept(utterance, wav, mel, ids)


def process_encoder(utterance: Utterance, out_dir: Path, config: PreprocessConfig) -> Outcome:
    """The encoder's 40-band frames of one utterance, in its speaker's folder."""
    wav = _decoded(utterance)
    if wav is None:
        return _skip(utterance, "broken")
    wav = dsp.preprocess_wav(wav, SAMPLE_RATE, config.encoder_signal)
    frames = dsp.encoder_melspectrogram(wav, config.encoder_signal)
    if len(frames) < config.encoder_min_frames:
        return _skip(utterance, "too_short", n_samples=len(wav), n_frames=len(frames))
    _save(out_dir / safe_id(utterance.speaker) / f"frames-{utterance.id}.npy", frames)
    return Outcome(
        utterance.id, utterance.speaker, kept=True, n_samples=len(wav), n_frames=len(frames)
    )
