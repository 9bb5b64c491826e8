"""`python -m bot bank-import DIR`: every recording in DIR becomes a curated bank voice.

Runs offline, on the machine that holds the bot's DATA_DIR, with the worker's own embedding code
and settings (so the embeddings and checks match the ones users get). The engine is imported in
`engine_sample_maker` only: the bot process itself never loads torch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.names import VoiceNameError, clean_voice_name
from bot.samples import sample_of
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


def engine_sample_maker() -> SampleMaker:
    """Decode, check and embed as a worker does, with the worker's own code and settings
    (SV2TTS_WEIGHTS_DIR, DEVICE, the recording limits): this imports the engine (torch)."""
    from worker.api import EmbedError
    from worker.embed import embed_recording
    from worker.engine import load_voice_engine
    from worker.settings import load_settings

    settings = load_settings()
    engine = load_voice_engine(settings)

    def make(path: Path) -> Sample:
        try:
            result = embed_recording(engine, path, settings)
        except EmbedError as error:
            raise ValueError(str(error)) from error
        return sample_of(result, "document")

    return make


async def import_folder(folder: Path, store: Storage, make_sample: SampleMaker) -> list[ImportLine]:
    """Add each recording as a curated voice named after its file (by the name rule of
    bot/names.py, cut to the length limit); re-running replaces them. A file whose name has
    nothing visible, or begins with a picture character like the bot's curated mark, is
    skipped with the reason."""
    lines = []
    for path in recordings_in(folder):
        try:
            name = clean_voice_name(path.stem, cut=True)
        except VoiceNameError as error:
            # ascii(): the stem may hold the very characters (bidi overrides) the rule is for.
            outcome = f"skipped: the file name makes no usable voice name ({error.problem})"
            lines.append(ImportLine(path, ascii(path.stem), outcome))
            continue
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
