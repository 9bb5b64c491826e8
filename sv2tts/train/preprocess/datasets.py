"""Dataset readers: the layouts people share speech corpora in, as one list of utterances.

    utterances = read_dataset(root)                  # layout detected
    utterances = read_dataset(root, "commonvoice")   # or named

Each reader returns `Utterance(id, speaker, audio, text)`, sorted by id; ids are unique in a
dataset and safe as file names. Layouts (`FORMATS`):

- "librispeech": `<speaker>/<chapter>/<speaker>-<chapter>.trans.txt`, lines `ID TEXT`, audio
  `ID.flac` (or any audio suffix) beside it.
- "libritts": `<speaker>/<chapter>/ID.wav` with `ID.normalized.txt` (preferred) or
  `ID.original.txt`.
- "ljspeech": `metadata*.csv` with `id|text[|normalized text]` (the normalised text is taken
  where present) and the audio in `wavs/` beside it or in the same folder. Also M-AILABS
  (`by_book/<gender>/<speaker>/<book>/metadata.csv`: the speaker is the folder above the
  book) and RUSLAN (`metadata_RUSLAN_22200.csv` beside `RUSLAN/`); otherwise the speaker is
  the folder holding the csv.
- "commonvoice": `validated.tsv` (tab-separated with a header: `client_id`, `path`,
  `sentence`) and `clips/`; the speaker is the client id.
- "plain": every audio file under the root with a `.txt` of the same name beside it; the
  speaker is the first folder below the root ("speaker" for files directly in it).

A line that cannot be parsed, or names audio that does not exist, is logged (one WARNING) and
left out: a broken entry never stops the others.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a")
FORMATS = ("librispeech", "libritts", "ljspeech", "commonvoice", "plain")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class DatasetError(ValueError):
    """A dataset folder whose layout cannot be read."""


@dataclass(frozen=True, slots=True)
class Utterance:
    id: str  # unique in the dataset, safe as a file name
    speaker: str
    audio: Path
    text: str
    # A piece of the file (start, end in seconds; see `alignments`), or None for all of it.
    span: tuple[float, float] | None = None


def safe_id(*parts: str) -> str:
    """A file-name-safe id from `parts` joined by '_' (characters outside [A-Za-z0-9._-]
    become '-')."""
    joined = "_".join(p for p in parts if p)
    return _UNSAFE.sub("-", joined).strip("-.") or "utterance"


def _audio_files(folder: Path) -> Iterable[Path]:
    return (p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace").strip()


def _audio_beside(folder: Path, stem: str) -> Path | None:
    for suffix in AUDIO_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def read_librispeech(root: Path) -> list[Utterance]:
    utterances = []
    for transcript in sorted(root.rglob("*.trans.txt")):
        speaker = transcript.parent.parent.name
        for number, line in enumerate(_read_text(transcript).splitlines(), 1):
            parts = line.strip().split(maxsplit=1)
            if len(parts) != 2:
                log.warning("%s:%d: not 'ID TEXT', skipped", transcript, number)
                continue
            audio = _audio_beside(transcript.parent, parts[0])
            if audio is None:
                log.warning("%s:%d: no audio file for %s, skipped", transcript, number, parts[0])
                continue
            utterances.append(Utterance(safe_id(parts[0]), speaker, audio, parts[1]))
    return utterances


def read_libritts(root: Path) -> list[Utterance]:
    utterances = []
    for audio in sorted(_audio_files(root)):
        stem = audio.name[: -len(audio.suffix)]
        for kind in ("normalized", "original"):
            text_file = audio.with_name(f"{stem}.{kind}.txt")
            if text_file.is_file():
                speaker = audio.parent.parent.name if audio.parent != root else "speaker"
                utterances.append(Utterance(safe_id(stem), speaker, audio, _read_text(text_file)))
                break
    return utterances


def _ljspeech_speaker(csv_path: Path, root: Path) -> str:
    parts = csv_path.parent.relative_to(root).parts
    if "by_book" in parts:  # M-AILABS: by_book/<gender>/<speaker>/<book>/metadata.csv
        index = parts.index("by_book")
        if len(parts) > index + 2:
            return parts[index + 2]
    return csv_path.parent.name if parts else root.name


def read_ljspeech(root: Path) -> list[Utterance]:
    utterances = []
    csv_paths = sorted(root.rglob("metadata*.csv"))
    # Ids of a multi-speaker set (M-AILABS) carry the speaker: books may reuse file names.
    multi_speaker = len(csv_paths) > 1
    for csv_path in csv_paths:
        speaker = _ljspeech_speaker(csv_path, root)
        folder = csv_path.parent
        # The audio is in wavs/ (LJSpeech, M-AILABS), in a folder beside the csv (RUSLAN),
        # or beside the csv itself.
        by_stem: dict[str, Path] = {}
        for audio in sorted(_audio_files(folder)):
            by_stem.setdefault(audio.name[: -len(audio.suffix)], audio)
        for number, line in enumerate(_read_text(csv_path).splitlines(), 1):
            fields = line.rstrip("\n").split("|")
            if len(fields) < 2 or not fields[0].strip():
                log.warning("%s:%d: not 'id|text[|normalized]', skipped", csv_path, number)
                continue
            name = fields[0].strip()
            text = fields[2].strip() if len(fields) > 2 and fields[2].strip() else fields[1]
            audio = by_stem.get(name) or by_stem.get(Path(name).stem)
            if audio is None:
                log.warning("%s:%d: no audio file for %s, skipped", csv_path, number, name)
                continue
            utterance_id = safe_id(speaker, Path(name).stem) if multi_speaker else safe_id(name)
            utterances.append(Utterance(utterance_id, speaker, audio, text.strip()))
    return utterances


def read_commonvoice(root: Path) -> list[Utterance]:
    table = root / "validated.tsv"
    utterances = []
    with table.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = {"client_id", "path", "sentence"} - set(reader.fieldnames or ())
        if missing:
            raise DatasetError(f"{table}: columns {sorted(missing)} missing")
        for number, row in enumerate(reader, 2):
            name, text = (row.get("path") or "").strip(), (row.get("sentence") or "").strip()
            audio = root / "clips" / name
            if not name or not text or not audio.is_file():
                log.warning("%s:%d: no audio or no text, skipped", table, number)
                continue
            speaker = (row.get("client_id") or "unknown").strip()
            stem = name[: -len(audio.suffix)] if audio.suffix else name
            utterances.append(Utterance(safe_id(stem), safe_id(speaker), audio, text))
    return utterances


def read_plain(root: Path) -> list[Utterance]:
    utterances = []
    for audio in sorted(_audio_files(root)):
        text_file = audio.with_suffix(".txt")
        if not text_file.is_file():
            continue
        relative = audio.relative_to(root)
        speaker = relative.parts[0] if len(relative.parts) > 1 else "speaker"
        stem = str(relative.with_suffix("")).replace("/", "_")
        utterances.append(Utterance(safe_id(stem), speaker, audio, _read_text(text_file)))
    return utterances


READERS: dict[str, Callable[[Path], list[Utterance]]] = {
    "librispeech": read_librispeech,
    "libritts": read_libritts,
    "ljspeech": read_ljspeech,
    "commonvoice": read_commonvoice,
    "plain": read_plain,
}


def detect_format(root: Path) -> str:
    """The layout of the dataset at `root` (one of FORMATS); DatasetError if none fits."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    if (root / "validated.tsv").is_file() and (root / "clips").is_dir():
        return "commonvoice"
    if next(root.rglob("*.trans.txt"), None) is not None:
        return "librispeech"
    if next(root.rglob("*.normalized.txt"), None) or next(root.rglob("*.original.txt"), None):
        return "libritts"
    if next(root.rglob("metadata*.csv"), None) is not None:
        return "ljspeech"
    if any(p.with_suffix(".txt").is_file() for p in _audio_files(root)):
        return "plain"
    raise DatasetError(
        f"{root}: no known layout (LibriSpeech/LibriTTS transcripts, metadata.csv, "
        "validated.tsv + clips/, or audio files with a .txt beside each)"
    )


def read_dataset(root: Path | str, fmt: str | None = None) -> list[Utterance]:
    """The utterances of the dataset at `root` in layout `fmt` (detected when None)."""
    root = Path(root)
    fmt = fmt or detect_format(root)
    if fmt not in READERS:
        raise DatasetError(f"unknown dataset format {fmt!r}; known: {', '.join(FORMATS)}")
    utterances = sorted(READERS[fmt](root), key=lambda u: u.id)
    seen: set[str] = set()
    unique = []
    for utterance in utterances:
        if utterance.id in seen:
            log.warning("%s: utterance id %s appears twice, the second skipped", root, utterance.id)
            continue
        seen.add(utterance.id)
        unique.append(utterance)
    log.info("%s: %d utterances (%s layout)", root, len(unique), fmt)
    return unique
