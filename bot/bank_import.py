"""`python -m bot bank-import DIR`: every recording in DIR becomes a curated bank voice.

Runs offline, on the machine that holds the bot's DATA_DIR, with the same engine and the same
checks as a worker (so the embeddings match the ones users make). The engine is imported
inside `import_folder` only: the bot process itself never loads torch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.settings import Settings
from storage import Sample, Storage

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = frozenset({".mp3", ".ogg", ".oga", ".opus", ".wav", ".flac", ".m4a", ".webm"})

# path -> Sample; raises ValueError with a reason for a recording that cannot be used.
SampleMaker = Callable[[Path], Sample]


@dataclass(frozen=True, slots=True)
class ImportLine:
    path: Path
    name: str
    outcome: str  # "added", "replaced", "skipped: <reason>"


def recordings_in(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in AUDIO_SUFFIXES:
            yield path


def engine_sample_maker(settings: Settings) -> SampleMaker:
    """Decode, check and embed like a worker does (imports the engine: torch, the encoder)."""
    from sv2tts.audio import SAMPLE_RATE, decode_audio, encode_ogg_opus
    from sv2tts.errors import EngineError
    from sv2tts.loading import load_voice_encoder
    from sv2tts.recording import RecordingLimits

    encoder = load_voice_encoder(settings.sv2tts_weights_dir, device=settings.device.value)
    limits = RecordingLimits(min_speech_seconds=settings.min_speech_seconds)

    def make(path: Path) -> Sample:
        try:
            wav = decode_audio(
                path, max_bytes=settings.max_audio_bytes, max_seconds=settings.max_audio_seconds
            )
            voice = encoder.embed(wav, SAMPLE_RATE, limits=limits)
        except EngineError as error:
            raise ValueError(str(error)) from error
        return Sample(
            embedding=np.asarray(voice.vector, dtype=np.float32),
            encoder_id=voice.encoder_id,
            speech_seconds=voice.recording.speech_seconds,
            total_seconds=voice.recording.total_seconds,
            level_dbfs=voice.recording.level_dbfs,
            clipped_fraction=voice.recording.clipped_fraction,
            audio=encode_ogg_opus(wav, SAMPLE_RATE, output_rate=SAMPLE_RATE),
            audio_kind="document",
        )

    return make


async def import_folder(folder: Path, store: Storage, make_sample: SampleMaker) -> list[ImportLine]:
    """Add each recording as a curated voice named after its file; re-running replaces them."""
    lines = []
    for path in recordings_in(folder):
        name = path.stem[:64]
        try:
            sample = make_sample(path)
        except ValueError as error:
            lines.append(ImportLine(path, name, f"skipped: {error}"))
            continue
        existing = await store.voices.find_curated(name)
        if existing is not None:
            await store.voices.remove_from_bank(existing.id)
        await store.voices.create_curated(name, sample)
        lines.append(ImportLine(path, name, "replaced" if existing else "added"))
        log.info("bank voice %r from %s", name, path.name)
    return lines
