"""The speaker encoder's training set and its batches, as the SV2TTS reference samples them.

Training set (what `python -m sv2tts preprocess encoder DATASET OUT` writes; the contract
with the preprocessing side):

    OUT/<speaker>/frames-<utterance>.npy   (T, 40) float32: the encoder's 40-band mel frames
                                           (`sv2tts.audio.dsp.encoder_melspectrogram` of the wav
                                           after `sv2tts.audio.dsp.preprocess_wav`)
    OUT/<speaker>/_sources.txt             one line per utterance:
                                           `frames-<utterance>.npy,<source audio path>`

Only the files listed in a speaker's `_sources.txt` are read (so a half-written speaker
folder is harmless); utterances of no more frames than one partial (160) are left out, and so
are speakers left with none. Speaker and utterance names are folder and file names.

One batch (`sv2tts.encoder.train.EncoderRecipe.batches`): speakers_per_batch speakers (64),
utterances_per_speaker (10) utterances of each, one partial of partial_frames (160) frames
from each, starting at a frame drawn uniformly from [0, T - 160) with a numpy RandomState,
speaker-major (row = speaker * utterances + utterance). Speakers and utterances are dealt
from shuffled decks (`DeckSampler`): every one comes once before any comes again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

log = logging.getLogger(__name__)

SOURCES = "_sources.txt"


@dataclass(frozen=True)
class Speaker:
    name: str
    utterances: tuple[Path, ...]
    frame_counts: tuple[int, ...]


def read_speaker(folder: Path, min_frames: int) -> tuple[Speaker | None, int]:
    """The speaker in `folder` (None when no utterance is long enough) and how many of its
    listed utterances were too short."""
    listed = []
    for number, line in enumerate((folder / SOURCES).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        name = line.split(",", 1)[0].strip()
        if not name.endswith(".npy") or "/" in name or name.startswith("."):
            raise ValueError(f"{folder / SOURCES}:{number}: not a frames file name: {name!r}")
        listed.append(folder / name)
    kept, counts, short = [], [], 0
    for path in listed:
        # mmap: only the header is read to learn the length.
        frames = np.load(path, mmap_mode="r", allow_pickle=False)
        if frames.ndim != 2:
            raise ValueError(f"{path}: expected frames (T, n_mels), got shape {frames.shape}")
        if frames.shape[0] <= min_frames:
            short += 1
            continue
        kept.append(path)
        counts.append(int(frames.shape[0]))
    if not kept:
        return None, short
    return Speaker(folder.name, tuple(kept), tuple(counts)), short


class EncoderDataset(Dataset[Speaker]):
    """The speakers of an encoder training set written by `preprocess encoder`."""

    def __init__(self, root: Path | str, partial_frames: int = 160, n_mels: int = 40) -> None:
        self.root = Path(root)
        self.partial_frames = partial_frames
        self.n_mels = n_mels
        folders = sorted(p.parent for p in self.root.glob(f"*/{SOURCES}"))
        speakers, short, empty = [], 0, 0
        for folder in folders:
            speaker, too_short = read_speaker(folder, partial_frames)
            short += too_short
            if speaker is None:
                empty += 1
            else:
                speakers.append(speaker)
        if short or empty:
            log.info(
                "%s: %d utterances shorter than a partial and %d speakers left with none, left out",
                root,
                short,
                empty,
            )
        if len(speakers) < 2:
            raise ValueError(
                f"{self.root}: GE2E needs at least two speakers with usable utterances, "
                f"found {len(speakers)}"
            )
        self.speakers: list[Speaker] = speakers

    def __len__(self) -> int:
        return len(self.speakers)

    def __getitem__(self, index: int) -> Speaker:
        return self.speakers[index]

    def frames(self, speaker: int, utterance: int) -> np.ndarray:
        path = self.speakers[speaker].utterances[utterance]
        frames = np.load(path, allow_pickle=False)
        if frames.shape[1] != self.n_mels:
            raise ValueError(f"{path}: {frames.shape[1]} bands, the encoder takes {self.n_mels}")
        return frames


class DeckSampler:
    """Deals items from a shuffled deck, reshuffled when it runs out: each item comes once
    before any item comes twice (a batch needing more than the deck repeats some)."""

    def __init__(self, size: int, rng: np.random.RandomState) -> None:
        self.size = size
        self.rng = rng
        self.deck: list[int] = []

    def deal(self, count: int) -> list[int]:
        dealt = []
        while len(dealt) < count:
            if not self.deck:
                self.deck = self.rng.permutation(self.size).tolist()
            dealt.append(self.deck.pop())
        return dealt


def partial_starts(
    frame_counts: Sequence[Sequence[int]], partial_frames: int, rng: np.random.RandomState
) -> np.ndarray:
    """Start frames (S, U) of one partial per utterance, drawn speaker-major from `rng`,
    uniformly on [0, T - partial_frames)."""
    return np.array(
        [[rng.randint(0, n - partial_frames) for n in row] for row in frame_counts],
        dtype=np.int64,
    )


def cut_partials(
    utterances: Sequence[Sequence[np.ndarray]], starts: np.ndarray, partial_frames: int
) -> np.ndarray:
    """Partials (S * U, partial_frames, n_mels) float32, speaker-major."""
    return np.stack(
        [
            frames[start : start + partial_frames]
            for row, row_starts in zip(utterances, starts, strict=True)
            for frames, start in zip(row, row_starts, strict=True)
        ]
    ).astype(np.float32)


class EncoderBatch(NamedTuple):
    frames: torch.Tensor  # (S * U, partial_frames, n_mels) float32, speaker-major
    speakers: int  # S
    starts: np.ndarray  # (S, U)
    names: tuple[str, ...]  # the S speakers' names
